/** Largest body accepted, as on `POST /ingest/status` (contract §3: 1 MiB). */
export const MAX_BODY_BYTES = 1024 * 1024;

export type DecodedBody =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly reason: 'InvalidJson' | 'BodyTooLarge'; readonly description: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Turns a received body into the JSON value the ingest function validates. The receiver
 * runs with `skipParsingBodyAsJson`, so a data-section body (what every SDK sends by
 * default) arrives as bytes and is parsed here, where a parse failure can be reported
 * instead of silently handing the bytes on. A body sent as an AMQP value section is
 * already a value and passes through; the schema judges it.
 */
export function decodeMessageBody(body: unknown): DecodedBody {
  if (body === undefined) return { ok: false, reason: 'InvalidJson', description: 'the message has no body' };
  if (body instanceof Uint8Array) {
    if (body.byteLength > MAX_BODY_BYTES) return tooLarge(body.byteLength);
    let text: string;
    try {
      text = utf8.decode(body);
    } catch {
      return { ok: false, reason: 'InvalidJson', description: 'the body is not UTF-8 text' };
    }
    return parseJson(text);
  }
  if (typeof body === 'string') {
    const bytes = Buffer.byteLength(body);
    return bytes > MAX_BODY_BYTES ? tooLarge(bytes) : parseJson(body);
  }
  return { ok: true, value: body };
}

function parseJson(text: string): DecodedBody {
  // A byte-order mark is legal in front of UTF-8 JSON written by some .NET writers.
  const json = text.startsWith('\uFEFF') ? text.slice(1) : text;
  if (json.trim() === '') return { ok: false, reason: 'InvalidJson', description: 'the body is empty' };
  try {
    return { ok: true, value: JSON.parse(json) as unknown };
  } catch (error) {
    return { ok: false, reason: 'InvalidJson', description: `the body is not JSON: ${(error as Error).message}` };
  }
}

function tooLarge(bytes: number): DecodedBody {
  return { ok: false, reason: 'BodyTooLarge', description: `the body has ${bytes} bytes; at most ${MAX_BODY_BYTES} are accepted` };
}
