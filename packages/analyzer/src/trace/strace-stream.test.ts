// The streaming parser against the whole-text one: any chunking of a trace gives the same result.
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { describe, test } from 'node:test';
import { parseStraceDetailed, StraceStream } from './strace-parser.js';

const dir = new URL('../../src/trace/fixtures/strace/', import.meta.url);
const samples = readdirSync(dir)
  .filter((name) => name !== 'README.txt' && statSync(new URL(name, dir)).isFile())
  .map((name) => ({ name, text: readFileSync(new URL(name, dir), 'utf8') }));

function streamed(text: string, size: number, translate?: (line: string) => string) {
  const stream = new StraceStream({}, translate);
  for (let at = 0; at < text.length; at += size) stream.push(text.slice(at, at + size));
  return stream.end();
}

describe('strace stream', () => {
  test('every real sample (strace and gVisor), in chunks of 1 to 64 KiB, parses as the whole text', () => {
    assert.ok(samples.length >= 4);
    for (const { name, text } of samples)
      for (const size of [1, 7, 100, 4096, 65_536])
        assert.deepEqual(streamed(text, size), parseStraceDetailed(text), `${name} in chunks of ${size}`);
  });

  test('attach messages: a whole line goes, one in the middle of a line joins it to the next', () => {
    const text = [
      '100 1.0 openat(AT_FDCWD, "/a", O_RDONLY) = 3',
      'strace: Process 101 attached',
      '100 1.1 openat(AT_FDCWD, "/b", strace: Process 102 attached',
      'O_RDONLY) = 4',
      '100 1.2 unlink("/c") = 0\r',
      '',
      'strace: Process 103 detached',
    ].join('\n');
    const whole = parseStraceDetailed(text);
    for (const size of [1, 3, 50, text.length]) assert.deepEqual(streamed(text, size), whole);
    assert.equal(whole.stats.lines, 5);
    assert.ok(whole.events.some((e) => e.kind === 'file' && e.path === '/b'));
  });

  test('each line is translated before it is parsed; blank first lines do not decide the format', () => {
    const text = '\n  \n9 /* 22770 in strace\'s PID NS */ 1.0 unlink("/x") = 0\n';
    const translate = (line: string): string =>
      line.replace(/\b\d+ \/\* (\d+) in strace's PID NS \*\//g, '$1');
    const result = streamed(text, 5, translate);
    assert.deepEqual(result, parseStraceDetailed(translate(text)));
    assert.deepEqual(
      result.events.map((e) => e.pid),
      [22770],
    );
  });

  test('nothing pushed is the empty trace', () => {
    assert.deepEqual(new StraceStream().end(), parseStraceDetailed(''));
  });
});
