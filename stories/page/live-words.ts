// What the page says about its live client, in words: the subtitle for each state the client is
// in (connecting, connected, retrying, stopped and why), the config the page will connect with,
// and how to start. Pure functions of the config and the client's info; the page hides tokens in
// whatever they return.
import type { ClientState, GatewayInfo } from '../../src/client/index.js';
import type { Story } from '../scenarios/story.js';
import type { InspectorConfig } from '../support/inspector-server.js';

/** The gateway, or the nodes of a fleet, in words. */
export function targetText(target: InspectorConfig): string {
  return target.gatewayUrls ? `the nodes ${target.gatewayUrls.join(', ')}` : target.gatewayUrl;
}

/** The rows the info panel shows before a client exists: what Connect (or Run story) will use. */
export function configRows(config: InspectorConfig, story: Story | undefined): Array<[string, string]> {
  if (story) return [['story', story.name], ['gateway', 'a fresh one for this run, behind a fault proxy'], ['agent', 'demo']];
  return [
    ['mode', config.mode === 'start' ? 'npm start: a demo gateway and the stories' : 'inspect: your gateway, live'],
    [config.gatewayUrls ? 'nodes' : 'gateway', config.gatewayUrls ? config.gatewayUrls.join(' ') : config.gatewayUrl],
    ['agent', config.agentId],
    // Never the token itself: only whether there is one, and where it goes.
    ['token', config.token === undefined ? 'none' : 'given (sent in hello.token, and as ?token= on a /ws URL)'],
  ];
}

/** The timeline's text before anything ran: what pressing the button will do. */
export function startHint(config: InspectorConfig, story: Story | undefined): string {
  if (story) return `Press "Run story" to run "${story.title}" here: the page starts a fresh gateway for it, and each step, transition, event and error appears in this list as it happens.`;
  const restart = config.mode === 'start' ? 'stop and restart npm start' : config.gatewayUrls ? 'stop (Ctrl-C) the node it is on' : 'restart the gateway';
  return (
    `Press "Connect": a client in this page connects to ${targetText(config)} as agent "${config.agentId}", ` +
    `and every transition, event, gap, resync, backoff and error appears in this list as it happens. ` +
    `Once joined, send a message below; ${restart} to watch it reconnect. "Disconnect" stops it at any time.`
  );
}

/** The subtitle while the live client runs: where it is, or why it stopped. */
export function liveSummary(state: ClientState | 'stopped', info: GatewayInfo, config: InspectorConfig): string {
  const where = `${info.url ?? targetText(config)} (agent "${config.agentId}")`;
  switch (state) {
    case 'connecting':
    case 'negotiating':
      return `A client in this page is connecting to ${where}...`;
    case 'joined':
      return `A client in this page is connected to ${where}.`;
    case 'reconnecting':
    case 'suspended':
      return `The client lost ${where} and keeps retrying (${info.attempt} failed attempt${info.attempt === 1 ? '' : 's'} so far). "Disconnect" stops it.`;
    case 'disconnected':
      return `The client is disconnected from ${where}.`;
    case 'stopped': {
      const error = info.lastError;
      const why = error ? ` ${error.code}: ${error.message}` : '';
      return `The client stopped and will not retry.${why} Press "Connect" to try again.`;
    }
  }
}
