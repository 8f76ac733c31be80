/** The process streams and environment a command runs with (injectable for tests). */
export interface CommandIo {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: Readonly<Record<string, string | undefined>>;
}

export function processIo(): CommandIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env };
}

export function writeOut(stream: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(text, (error) => (error ? reject(error) : resolve()));
  });
}

/** A TTY that is not CI gets the Ink view; everything else gets plain lines. */
export function wantsInteractive(io: CommandIo): boolean {
  const ci = io.env.CI;
  return io.stdout.isTTY === true && (ci === undefined || ci === '' || ci === 'false' || ci === '0');
}
