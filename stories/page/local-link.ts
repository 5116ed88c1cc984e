// The page's own connection to its local inspector server: a server-sent event stream, which the
// browser reopens by itself when the server restarts. Each (re)connect delivers the server's
// config, so the page learns the gateway to watch without ever reloading (a reload would wipe the
// timeline and the client that is being watched).
import type { InspectorConfig } from '../support/inspector-server.js';
import { withControlKey } from './control-key.js';

/** The link's state, as the header shows it. `refused`: the server answered with an error (too many open pages, or not this run's key). */
export type LinkState = 'connecting' | 'connected' | 'reconnecting' | 'refused';

/** Open the stream; `onState` hears every change, `onConfig` every config the server sends. */
export function openLocalLink(onState: (state: LinkState) => void, onConfig: (config: InspectorConfig) => void): () => void {
  const source = new EventSource(withControlKey('/control/events'));
  source.addEventListener('open', () => onState('connected'));
  // EventSource retries on its own (the server asks for 500 ms); CLOSED only after a non-200 answer.
  source.addEventListener('error', () => onState(source.readyState === EventSource.CLOSED ? 'refused' : 'reconnecting'));
  source.addEventListener('config', (event) => onConfig(JSON.parse((event as MessageEvent<string>).data) as InspectorConfig));
  return () => source.close();
}
