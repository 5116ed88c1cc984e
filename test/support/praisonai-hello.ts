// What PraisonAI's own client sends to open a connection, copied from upstream so tests face the
// real thing rather than what the recordings' recorder happened to send.

/**
 * The `hello` PraisonAI's `GatewayClient` sends by default, copied from upstream
 * (MervinPraison/PraisonAI, src/praisonai-bot/praisonai_bot/gateway/client.py, `_connect_once`):
 * `protocol_min`/`protocol_max` are MIN_PROTOCOL_VERSION and PROTOCOL_VERSION (both 1), the
 * capabilities are DEFAULT_CAPABILITIES, and a resume adds `session_id` and then `since` (only
 * when its cursor is above 0). The token goes in the URL (`?token=`), never in the frame.
 */
export function upstreamHello(agentId: string, resume: { readonly session_id?: string; readonly since?: number } = {}): Record<string, unknown> {
  return { type: 'hello', agent_id: agentId, protocol_min: 1, protocol_max: 1, capabilities: ['streaming', 'ack'], ...resume };
}
