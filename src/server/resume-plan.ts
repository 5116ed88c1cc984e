// The resume rule of PROTOCOL.md section 4 as one pure function: given where a client says it
// is and where the session's history stands, decide what to replay and whether to signal a gap.
import type { Gap } from '../protocol/index.js';
import type { LogPosition } from './event-log.js';

/** What a client asked for when resuming. */
export interface ResumeRequest {
  /** Seq of the last event the client delivered; undefined when it sent none. */
  readonly since: number | undefined;
  /** The epoch that `since` belongs to; undefined when the client sent none. */
  readonly epoch: string | undefined;
}

/** What the gateway will do. */
export interface ResumePlan {
  /** Replay events with `seq > replayAfter`. */
  readonly replayAfter: number;
  readonly resyncRequired: boolean;
  readonly gap: Gap | undefined;
}

/**
 * Decide replay and gap for a resume.
 *
 * - No `since`: the client has no position, so nothing is replayed (PraisonAI does the same);
 *   live events start after the current head.
 * - A different epoch, or a `since` beyond the head (a cursor from another history): everything
 *   held is replayed and a gap is signalled, because that cursor means nothing here. A `since`
 *   without an epoch counts as another epoch's while the history's move is unseen by such
 *   resumes (`movedUnseen`): it may number events of the lost history (PROTOCOL.md section 4).
 * - `since` older than the window: the window is replayed and the missing range is a gap.
 */
export function planResume(request: ResumeRequest, position: LogPosition): ResumePlan {
  const { since } = request;
  if (since === undefined) return { replayAfter: position.head, resyncRequired: false, gap: undefined };
  const firstHeld = position.oldest > 0 ? position.oldest : position.head + 1;
  const foreignEpoch = acrossEpochs(request, position);
  if (foreignEpoch || since > position.head) {
    return { replayAfter: firstHeld - 1, resyncRequired: true, gap: { expected: since + 1, received: firstHeld } };
  }
  if (since + 1 < firstHeld) {
    return { replayAfter: firstHeld - 1, resyncRequired: true, gap: { expected: since + 1, received: firstHeld } };
  }
  return { replayAfter: since, resyncRequired: false, gap: undefined };
}

/** Whether a resume's `since` belongs to another epoch than the session's history now. */
export function acrossEpochs(request: ResumeRequest, position: LogPosition): boolean {
  return request.epoch === undefined ? position.movedUnseen : request.epoch !== position.epoch;
}
