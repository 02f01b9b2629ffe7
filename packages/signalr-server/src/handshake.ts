import { frameMessage } from './textMessageFormat.ts';

/** The accepted handshake, as the client asked for it. */
export interface Handshake {
  readonly protocol: 'json';
  /** 1, or 2 when the client wants stateful reconnect (Ack/Sequence). */
  readonly version: 1 | 2;
}

/** `{}<RS>`: no `type` field, or the client would not take it for a handshake response. */
export const HANDSHAKE_RESPONSE = frameMessage('{}');

/** Sent when no handshake arrived within the handshake timeout (ASP.NET's wording). */
export const HANDSHAKE_CANCELED = 'Handshake was canceled.';

export function handshakeErrorFrame(error: string): string {
  return frameMessage(JSON.stringify({ error }));
}

/**
 * Parses the first message of a connection. Only the JSON protocol is offered (MessagePack
 * is not), in versions 1 and 2. Returns an error text for the client instead of throwing.
 */
export function parseHandshake(text: string): Handshake | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { error: 'The handshake request is not valid JSON.' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { error: 'The handshake request must be a JSON object.' };
  }
  const { protocol, version } = value as Record<string, unknown>;
  if (typeof protocol !== 'string' || typeof version !== 'number') {
    return { error: 'The handshake request needs a string "protocol" and a numeric "version".' };
  }
  if (protocol !== 'json') return { error: `The protocol '${protocol.slice(0, 64)}' is not supported.` };
  if (version !== 1 && version !== 2) {
    return { error: `The server does not support version ${version} of the 'json' protocol.` };
  }
  return { protocol, version };
}
