// The server side of a story, in Node: the testing entry's gateway behind its fault proxy, with
// the story's options and agent, and the scripted side effects (drop, stall, crash, reboot with or
// without the log, deploy with drain). Clients connect to the proxy, so the gateway can be
// replaced under them; stats add up every gateway the story ran.
import { attachDemoAgent, DEMO_EVENT_TYPES, type Gateway } from '../../src/server/index.js';
import { startTestGateway } from '../../src/testing/index.js';
import type { GatewaySetup, StageControl, StageStats } from '../scenarios/story.js';

/** A running stage. */
export interface Stage extends StageControl {
  /** `ws://127.0.0.1:PORT` of the fault proxy: what the story's client connects to. */
  readonly url: string;
  /** Stop the gateway and the proxy. */
  close(): Promise<void>;
}

/** Story defaults: a quick heartbeat so a half-open socket is found in about 2 s, not 30. */
const DEFAULT_HEARTBEAT_MS = 1000;
/** Drain hints spread over this window; one client gets 0. */
const DRAIN_SPREAD_MS = 200;

/** Start a stage for `setup`. */
export async function createStage(setup: GatewaySetup): Promise<Stage> {
  const messages: unknown[] = [];
  // Counters of gateways already stopped, so stats cover the whole story.
  const retired = { accepted: 0, duplicates: 0, refused: {} as Record<string, number> };
  let current: Gateway | undefined;

  const retire = (gateway: Gateway): void => {
    const counters = gateway.stats().counters;
    retired.accepted += counters.accepted;
    retired.duplicates += counters.duplicates;
    for (const [code, n] of Object.entries(counters.refused)) retired.refused[code] = (retired.refused[code] ?? 0) + n;
  };

  const server = await startTestGateway({
    replayWindow: setup.replayWindow ?? 1000,
    protocol: setup.protocol ?? { min: 1, max: 2 },
    heartbeatMs: setup.heartbeatMs ?? DEFAULT_HEARTBEAT_MS,
    rateLimit: setup.rateLimit ?? false,
    drainSpreadMs: DRAIN_SPREAD_MS,
    eventTypes: DEMO_EVENT_TYPES,
    setup(gateway) {
      current = gateway;
      const offMessages = gateway.onMessage((message) => void messages.push(message.content));
      const offDemo = setup.demoAgent === false ? () => undefined : attachDemoAgent(gateway, 'demo', { tokenDelayMs: 10 });
      return () => {
        offMessages();
        offDemo();
        retire(gateway);
        if (current === gateway) current = undefined;
      };
    },
  });
  const { proxy } = server;

  function requireGateway(): Gateway {
    if (!current) throw new Error('The gateway is down; boot it first.');
    return current;
  }

  return {
    url: server.url,
    async drop() {
      proxy.drop();
    },
    async stall() {
      proxy.stall();
    },
    async resume() {
      proxy.resume();
    },
    async refuse(on) {
      proxy.refuse(on);
    },
    crashGateway: () => server.crash(),
    async bootGateway({ keepLog, protocol }) {
      await server.restart({ keepLog, ...(protocol === undefined ? {} : { protocol }) });
    },
    async deploy({ protocol, spreadMs }) {
      await server.deploy({ ...(protocol === undefined ? {} : { protocol }), ...(spreadMs === undefined ? {} : { spreadMs }) });
    },
    async publish(sessionId, count, type) {
      const gateway = requireGateway();
      const seqs: number[] = [];
      // `??` rather than a default parameter: over HTTP an omitted type arrives as null.
      for (let i = 0; i < count; i++) seqs.push(await gateway.publish(sessionId, { type: type ?? 'tick', data: { n: i + 1 } }));
      return seqs;
    },
    async setState(sessionId, state) {
      await requireGateway().setState(sessionId, state);
    },
    async stats(): Promise<StageStats> {
      const counters = current?.stats().counters;
      const refused = { ...retired.refused };
      for (const [code, n] of Object.entries(counters?.refused ?? {})) refused[code] = (refused[code] ?? 0) + n;
      return {
        accepted: retired.accepted + (counters?.accepted ?? 0),
        duplicates: retired.duplicates + (counters?.duplicates ?? 0),
        refused,
        messages: [...messages],
        connections: proxy.connections,
      };
    },
    close: () => server.close(),
  };
}
