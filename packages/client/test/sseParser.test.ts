import { describe, expect, it } from 'vitest';
import { SseParser, type SseMessage } from '../src/transports/sseReader.ts';

function parse(chunks: readonly string[]): SseMessage[] {
  const messages: SseMessage[] = [];
  const parser = new SseParser((message) => messages.push(message));
  for (const chunk of chunks) parser.push(chunk);
  return messages;
}

describe('SSE parsing', () => {
  it('reads events, ids, multi-line data and comments, however the text is split', () => {
    const text = ': hello\n\nretry: 2000\nid: 3\nevent: timeline.bulk\ndata: {"a":\ndata: 1}\n\nevent: status.latest\r\ndata: {}\r\n\r\n';
    const expected = [
      { event: 'timeline.bulk', data: '{"a":\n1}', id: '3' },
      { event: 'status.latest', data: '{}', id: undefined },
    ];
    expect(parse([text])).toEqual(expected);
    expect(parse(text.split(''))).toEqual(expected);
    expect(parse([text.slice(0, 70), text.slice(70)])).toEqual(expected);
  });

  it('passes an id-only block on (the feed moves its resume position with it)', () => {
    expect(parse(['id: 42\n\n'])).toEqual([{ event: '', data: '', id: '42' }]);
  });

  it('calls an event without a name "message" and ignores unknown fields', () => {
    expect(parse(['foo: bar\ndata:x\n\n'])).toEqual([{ event: 'message', data: 'x', id: undefined }]);
  });
});
