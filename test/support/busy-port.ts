// Ports that are really taken, for start-up failure tests: a plain TCP server holds each one
// until the test ends. Also a way to capture what a CLI command writes to stderr in-process.
import { createServer, type Server } from 'node:net';
import { afterEach } from 'vitest';

const holders: Server[] = [];
afterEach(async () => {
  await Promise.all(holders.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** A port on 127.0.0.1 held open by another socket for the rest of the test. */
export async function busyPort(): Promise<number> {
  const server = createServer();
  holders.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP port');
  return address.port;
}

/** Run a command's `run()` in this process; resolve with its exit code and what it wrote to stderr. */
export async function captureStderr(run: () => Promise<number>): Promise<{ code: number; stderr: string }> {
  const write = process.stderr.write;
  const lines: string[] = [];
  process.stderr.write = ((chunk: string) => lines.push(chunk) > 0) as typeof process.stderr.write;
  try {
    return { code: await run(), stderr: lines.join('') };
  } finally {
    process.stderr.write = write;
  }
}
