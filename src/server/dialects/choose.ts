// Which dialect a connection speaks, decided once per handshake frame: the gateway's `dialect`
// option, and under 'auto' the PraisonAI marker in `hello` (PROTOCOL.md section 8).
import type { HelloFrame, JoinFrame } from '../../protocol/index.js';
import { createPraisonAITranslator, isPraisonAIHello, type FrameTranslator } from './praisonai.js';

/**
 * The dialect a gateway speaks on its connections.
 * - `lifeline`: PROTOCOL.md frames on every connection.
 * - `praisonai`: PraisonAI's frames on every connection, legacy `join` included.
 * - `auto`: PraisonAI's frames for a `hello` that carries the PraisonAI marker, Lifeline's otherwise.
 */
export type GatewayDialect = 'lifeline' | 'praisonai' | 'auto';

/** Every accepted value of the `dialect` option. */
export const GATEWAY_DIALECTS: readonly GatewayDialect[] = ['lifeline', 'praisonai', 'auto'];

/** The translator for a connection before any handshake frame: only `praisonai` translates from the start. */
export function initialTranslator(dialect: GatewayDialect, target: string): FrameTranslator | undefined {
  return dialect === 'praisonai' ? createPraisonAITranslator({ target }) : undefined;
}

/** The translator for a connection that sent this handshake frame, or undefined for Lifeline frames. */
export function translatorFor(dialect: GatewayDialect, frame: HelloFrame | JoinFrame, target: string): FrameTranslator | undefined {
  const praisonAI = dialect === 'praisonai' || (dialect === 'auto' && frame.type === 'hello' && isPraisonAIHello(frame));
  return praisonAI ? createPraisonAITranslator({ target, agentId: frame.agent_id, ...(frame.since === undefined ? {} : { since: frame.since }) }) : undefined;
}
