// The demo agent behind `npm start` and `agent-lifeline gateway`: echoes each message, then streams a
// short reply as `token` events and finishes with a `reply` event, so every feature has traffic.
// Optionally it ticks, so a client that is away has events to catch up on.
import type { Gateway } from './gateway.js';

/** Event types the demo agent publishes (advertise them with `eventTypes`). */
export const DEMO_EVENT_TYPES = ['message', 'token', 'reply'] as const;

/** The event type of the demo agent's ticks (advertise it too when ticking). */
export const DEMO_TICK_TYPE = 'tick';

/** Options for {@link attachDemoAgent}. */
export interface DemoAgentOptions {
  /** Delay between streamed tokens. @default 40 */
  readonly tokenDelayMs?: number;
  /**
   * Publish a `tick` event (`{n}`) to every session of the agent this often, connected or not, so
   * that events keep coming while a client is away. 0 never ticks. @default 0
   */
  readonly tickMs?: number;
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (typeof content === 'object' && content !== null && 'text' in content && typeof content.text === 'string') return content.text;
  return JSON.stringify(content) ?? '';
}

/**
 * Answer messages sent to `agentId`: publish `message` (the echo), then `token` events word by
 * word, then `reply` with the whole text. Returns a function that detaches the agent.
 */
export function attachDemoAgent(gateway: Gateway, agentId: string, options: DemoAgentOptions = {}): () => void {
  const tokenDelayMs = options.tokenDelayMs ?? 40;
  const timers = new Set<NodeJS.Timeout>();
  const pause = (): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, tokenDelayMs);
      timers.add(timer);
    });
  let detached = false;

  const reply = async (sessionId: string, text: string): Promise<void> => {
    await gateway.publish(sessionId, { type: 'message', data: { text }, source: agentId });
    const answer = `echo: ${text}`;
    for (const word of answer.split(/(?<= )/)) {
      await pause();
      if (detached) return;
      await gateway.publish(sessionId, { type: 'token', data: { text: word }, source: agentId });
    }
    await gateway.publish(sessionId, { type: 'reply', data: { text: answer }, source: agentId });
    await gateway.setState(sessionId, { last_reply: answer });
  };

  const unsubscribe = gateway.onMessage((message, session) => {
    if (session.agentId !== agentId) return;
    // A session can vanish (gateway closing) mid-reply; the demo just stops.
    reply(session.id, textOf(message.content)).catch(() => undefined);
  });
  let ticks = 0;
  const tickMs = options.tickMs ?? 0;
  const ticker =
    tickMs > 0
      ? setInterval(() => {
          ticks++;
          for (const session of gateway.sessions()) {
            if (session.agentId !== agentId) continue;
            gateway.publish(session.id, { type: DEMO_TICK_TYPE, data: { n: ticks }, source: agentId }).catch(() => undefined);
          }
        }, tickMs)
      : undefined;
  return () => {
    detached = true;
    unsubscribe();
    clearInterval(ticker);
    for (const timer of timers) clearTimeout(timer);
  };
}
