// One event through EventLog.append, which takes a burst: what most log tests need.
import type { AppendResult, EventLog, NewEvent } from '../../src/server/event-log.js';

/** Append `event` (with `idempotencyKey` when given) as a burst of one; resolves to its result. */
export async function appendOne(log: EventLog, sessionId: string, event: NewEvent, idempotencyKey?: string): Promise<AppendResult> {
  const [result] = await log.append(sessionId, [idempotencyKey === undefined ? { event } : { event, idempotencyKey }]);
  if (result === undefined) throw new Error('the log returned no result for a burst of one');
  return result;
}
