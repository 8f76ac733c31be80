/** The process streams and environment a command runs with (injectable for tests). */
export interface CommandIo {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: Readonly<Record<string, string | undefined>>;
}

export function processIo(): CommandIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env };
}

/**
 * The errors of writing to a pipe whose reader has gone (`secure-registry scan | head`): the rest of
 * the output is not wanted, and the command still finishes with its own exit code.
 */
const READER_GONE = new Set(['EPIPE', 'ERR_STREAM_DESTROYED']);
export const isReaderGone = (error: unknown): boolean =>
  READER_GONE.has(String((error as NodeJS.ErrnoException | undefined)?.code));

export function writeOut(stream: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(text, (error) => (error && !isReaderGone(error) ? reject(error) : resolve()));
  });
}

/** A TTY that is not CI gets the Ink view; everything else gets plain lines. */
export function wantsInteractive(io: CommandIo): boolean {
  const ci = io.env.CI;
  // A terminal that reports no usable width (e.g. `script` without a parent terminal) gets plain lines.
  const narrow = typeof io.stdout.columns === 'number' && io.stdout.columns < 20;
  return (
    io.stdout.isTTY === true && !narrow && (ci === undefined || ci === '' || ci === 'false' || ci === '0')
  );
}
