// The two stub agents the PraisonAI transcripts were recorded with (test/fixtures/praisonai-gateway
// README), rebuilt on the gateway's app API so a Lifeline gateway can serve the same traffic:
// `echo` answers `echo: <text>`, `stream` streams reasoning and tokens, then `stream_end`. Both
// publish PraisonAI-named events (`response`, `token_stream`, …), one turn at a time per session.
import type { Gateway, PublishEvent } from '../../src/server/index.js';

/** Options for {@link attachTranscriptAgents}. */
export interface TranscriptAgentOptions {
  /** `sleep:N` in a message waits N seconds times this. @default 0.1 */
  readonly sleepScale?: number;
}

const TOKEN_PAUSE_MS = 5;

/** Serve `echo` and `stream` on `gateway`; returns a function that detaches both. */
export function attachTranscriptAgents(gateway: Gateway, options: TranscriptAgentOptions = {}): () => void {
  const sleepScale = options.sleepScale ?? 0.1;
  const turns = new Map<string, { slow: number; last: Promise<void> }>();
  const timers = new Set<NodeJS.Timeout>();
  let detached = false;
  const pause = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  const echoTurn = async (publish: (e: PublishEvent) => Promise<unknown>, text: string): Promise<void> => {
    const sleep = /^sleep:([\d.]+)\s*(.*)$/s.exec(text);
    if (sleep) await pause(Number(sleep[1]) * 1000 * sleepScale);
    const said = sleep ? (sleep[2] ?? '') : text;
    const failure = /^raise:(.*)$/s.exec(said);
    await publish({
      type: 'response',
      data: failure ? { status: 'final', content: `Error: ${failure[1]}`, outcome: { status: 'error' } } : { status: 'final', content: `echo: ${said}`, outcome: { status: 'ok' } },
    });
  };

  const streamTurn = async (publish: (e: PublishEvent) => Promise<unknown>, text: string): Promise<void> => {
    await publish({ type: 'reasoning_stream', data: { content: 'thinking...' }, source: 'stream' });
    for (const token of ['streamed', ' reply', ' to:', ` ${text}`]) {
      await publish({ type: 'token_stream', data: { content: token }, source: 'stream' });
      await pause(TOKEN_PAUSE_MS);
    }
    await publish({ type: 'stream_end', data: {}, source: 'stream' });
    await publish({ type: 'response', data: { status: 'final', content: `streamed reply to: ${text}`, outcome: { status: 'ok' } } });
  };

  const unsubscribe = gateway.onMessage((message, session) => {
    const text = typeof message.content === 'string' ? message.content : JSON.stringify(message.content);
    const publish = async (event: PublishEvent): Promise<void> => {
      if (!detached) await gateway.publish(session.id, event);
    };
    const turn = turns.get(session.id) ?? { slow: 0, last: Promise.resolve() };
    turns.set(session.id, turn);
    const accept = (content: string) => publish({ type: 'response', data: { status: 'accepted', content } });
    // PraisonAI takes one message at a time: accepted, then its answer. A message that arrives
    // while a slow (sleep:N) turn runs is accepted at once as queued, and answered after it.
    const queued = turn.slow > 0 ? accept('Message queued.') : undefined;
    const slow = text.startsWith('sleep:');
    if (slow) turn.slow++;
    turn.last = turn.last
      .then(() => queued ?? accept('Started processing.'))
      .then(() => (session.agentId === 'stream' ? streamTurn(publish, text) : echoTurn(publish, text)))
      .catch(() => undefined)
      .finally(() => {
        if (slow) turn.slow--;
      });
  });
  return () => {
    detached = true;
    unsubscribe();
    for (const timer of timers) clearTimeout(timer);
  };
}
