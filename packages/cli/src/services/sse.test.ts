import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { SseParser } from './sse.js';

test('parses messages split across chunks with CRLF, CR and LF line ends', () => {
  const parser = new SseParser();
  const stream = 'id: 1\r\ndata: {"a":\r\ndata: 1}\r\n\r\n: comment\n\nid: 2\revent: x\rdata: two\r\r';
  const messages = [];
  for (let i = 0; i < stream.length; i += 3) messages.push(...parser.push(stream.slice(i, i + 3)));
  assert.deepEqual(messages, [
    { id: '1', event: 'message', data: '{"a":\n1}', retry: undefined },
    { id: '2', event: 'x', data: 'two', retry: undefined },
  ]);
});

test('a message without a blank line after it is not emitted yet; data without a space', () => {
  const parser = new SseParser();
  assert.deepEqual(parser.push('data:x\nretry: 500\n'), []);
  assert.deepEqual(parser.push('\n'), [{ id: undefined, event: 'message', data: 'x', retry: 500 }]);
});
