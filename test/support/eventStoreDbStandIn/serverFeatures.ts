import type { handleUnaryCall } from '@grpc/grpc-js';
import serverFeaturesPb from '@eventstore/db-client/generated/serverfeatures_pb.js';
import type { SupportedMethods } from '@eventstore/db-client/generated/serverfeatures_pb.js';
import type { Empty } from '@eventstore/db-client/generated/shared_pb.js';

const { SupportedMethod, SupportedMethods: SupportedMethodsMessage } = serverFeaturesPb;

/**
 * `ServerFeatures.GetSupportedMethods`, which the client calls before its first append to
 * choose between `Streams.BatchAppend` (advertised by every current server) and the older
 * client-streaming `Streams.Append`. Names are lower-cased, as the server sends them.
 * Only the methods the stand-in implements are listed.
 */
export function serverFeaturesHandler(options: { batchAppend: boolean }): handleUnaryCall<Empty, SupportedMethods> {
  const method = (methodName: string, features: string[] = []) =>
    new SupportedMethod()
      .setServiceName('event_store.client.streams.streams')
      .setMethodName(methodName)
      .setFeaturesList(features);
  const methods = [method('read', ['position', 'events']), method('append')];
  if (options.batchAppend) methods.push(method('batchappend', ['deadline_duration']));
  return (_call, callback) => {
    callback(null, new SupportedMethodsMessage().setEventStoreServerVersion('0.0.0-stand-in').setMethodsList(methods));
  };
}
