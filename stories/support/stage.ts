// The server side of a story, in Node: a reference gateway behind a TCP fault proxy, and the
// scripted side effects (drop, stall, crash, reboot with or without the log, deploy with drain).
// Clients always connect to the proxy, so the gateway can be replaced under them.
import { createGateway, createMemoryLog, attachDemoAgent, DEMO_EVENT_TYPES, type EventLog, type Gateway } from '../../src/server/index.js';
import type { ProtocolRange } from '../../src/protocol/index.js';
import type { GatewaySetup, StageControl, StageStats } from '../scenarios/story.js';
import { createFaultProxy } from './fault-proxy.js';

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

interface Running {
  readonly gateway: Gateway;
  readonly detach: () => void;
}

/** Start a stage for `setup`. */
export async function createStage(setup: GatewaySetup): Promise<Stage> {
  const replayWindow = setup.replayWindow ?? 1000;
  let log: EventLog = createMemoryLog({ replayWindow });
  const messages: unknown[] = [];
  // Counters of gateways already replaced, so stats cover the whole story.
  const retired = { accepted: 0, duplicates: 0, refused: {} as Record<string, number> };
  let current: Running | null = null;

  async function start(protocol: ProtocolRange | undefined): Promise<Running> {
    const gateway = await createGateway({
      host: '127.0.0.1',
      port: 0,
      logger: false,
      log,
      protocol: protocol ?? setup.protocol ?? { min: 1, max: 2 },
      heartbeatMs: setup.heartbeatMs ?? DEFAULT_HEARTBEAT_MS,
      rateLimit: setup.rateLimit ?? false,
      drainSpreadMs: DRAIN_SPREAD_MS,
      eventTypes: DEMO_EVENT_TYPES,
    });
    const offMessages = gateway.onMessage((message) => messages.push(message.content));
    const offDemo = setup.demoAgent === false ? () => undefined : attachDemoAgent(gateway, 'demo', { tokenDelayMs: 10 });
    return {
      gateway,
      detach: () => {
        offMessages();
        offDemo();
      },
    };
  }

  function retire(running: Running): void {
    running.detach();
    const counters = running.gateway.stats().counters;
    retired.accepted += counters.accepted;
    retired.duplicates += counters.duplicates;
    for (const [code, n] of Object.entries(counters.refused)) retired.refused[code] = (retired.refused[code] ?? 0) + n;
  }

  function requireGateway(): Gateway {
    if (!current) throw new Error('The gateway is down; boot it first.');
    return current.gateway;
  }

  current = await start(undefined);
  const proxy = await createFaultProxy({ target: { host: '127.0.0.1', port: current.gateway.port } });

  async function crash(): Promise<void> {
    const running = current;
    if (!running) return;
    current = null;
    retire(running);
    await running.gateway.terminate();
  }

  return {
    url: proxy.url,
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
    crashGateway: crash,
    async bootGateway({ keepLog, protocol }) {
      await crash();
      if (!keepLog) log = createMemoryLog({ replayWindow });
      current = await start(protocol);
      proxy.setTarget({ host: '127.0.0.1', port: current.gateway.port });
    },
    async deploy({ protocol, spreadMs }) {
      const old = current;
      // Bring the new version up first and route new connections to it, so clients that leave
      // the draining gateway land on the new one instead of reconnecting to the old.
      current = await start(protocol);
      proxy.setTarget({ host: '127.0.0.1', port: current.gateway.port });
      if (!old) return;
      await old.gateway.drain({ spreadMs: spreadMs ?? DRAIN_SPREAD_MS });
      retire(old);
      await old.gateway.close();
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
      const counters = current?.gateway.stats().counters;
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
    async close() {
      await crash();
      await proxy.close();
    },
  };
}
