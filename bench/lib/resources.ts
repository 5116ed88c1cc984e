// What keeps the process alive after the last bench. `process.getActiveResourcesInfo()` names the
// type of every ref'd handle, request and timer; anything beyond what was there before the first
// bench (stdout, stderr, the loader) is something a bench opened and left open.

/** The resource types in `now` beyond those in `baseline`, counted per type. */
export function beyond(baseline: readonly string[], now: readonly string[]): string[] {
  const allowed = new Map<string, number>();
  for (const type of baseline) allowed.set(type, (allowed.get(type) ?? 0) + 1);
  const extra: string[] = [];
  for (const type of now) {
    const left = allowed.get(type) ?? 0;
    if (left > 0) allowed.set(type, left - 1);
    else extra.push(type);
  }
  return extra;
}

/** A turn of the event loop after the current phase, so the timer that woke us is not counted. */
const nextTurn = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(() => setImmediate(resolve), ms));

/**
 * Wait up to `timeoutMs` for the resources beyond `baseline` to go (sockets take a turn or two to
 * close), and return what is still there: empty when the process can exit by itself.
 */
export async function leftoverResources(baseline: readonly string[], timeoutMs: number): Promise<string[]> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    await nextTurn(20);
    const extra = beyond(baseline, process.getActiveResourcesInfo());
    if (extra.length === 0 || performance.now() > deadline) return extra;
  }
}
