// `GET /metrics`: Prometheus text from prom-client, one registry per gateway (several gateways
// may share a process). Counts are read from the gateway's counters at scrape time, so the hot
// path only bumps plain numbers; the store's round trips feed a histogram as they happen.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ConnectionTransport } from './connection.js';
import type { GatewayCounters } from './context.js';
import type { StoreHealth } from './fleet.js';

/** What the metrics read from their gateway. */
export interface MetricsSource {
  readonly counters: GatewayCounters;
  /** The store's health, from the gateway's fleet. */
  readonly health: StoreHealth;
  readonly nodeId: string;
  /** Open connections on this node, by transport. */
  connections(): Readonly<Record<ConnectionTransport, number>>;
  sessions(): number;
}

/** A gateway's metrics. */
export interface GatewayMetrics {
  /** Prometheus text exposition and its content type. */
  scrape(): Promise<{ readonly contentType: string; readonly body: string }>;
  /** Stop observing the store. */
  close(): void;
}

/** A counter whose value is read from `read()` at each scrape. */
function readCounter(registry: Registry, name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

/** A counter with one label, read from a record of counts at each scrape. */
function readLabelledCounter(registry: Registry, name: string, help: string, label: string, read: () => Readonly<Record<string, number>>): void {
  new Counter({
    name,
    help,
    labelNames: [label],
    registers: [registry],
    collect() {
      this.reset();
      for (const [value, count] of Object.entries(read())) this.inc({ [label]: value }, count);
    },
  });
}

/** Create the metrics of one gateway. */
export function createMetrics(source: MetricsSource): GatewayMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ node: source.nodeId });
  const c = source.counters;
  new Gauge({
    name: 'lifeline_connections',
    help: 'Open connections on this node, by transport (websocket, or http: SSE down, POST up).',
    labelNames: ['transport'],
    registers: [registry],
    collect() {
      for (const [transport, count] of Object.entries(source.connections())) this.set({ transport }, count);
    },
  });
  new Gauge({ name: 'lifeline_sessions', help: 'Sessions loaded on this node.', registers: [registry], collect() { this.set(source.sessions()); } });
  new Gauge({
    name: 'lifeline_store_reachable',
    help: '1 while the event store (Redis) answers, 0 while it does not.',
    registers: [registry],
    collect() {
      this.set(source.health.isReachable() ? 1 : 0);
    },
  });
  readCounter(registry, 'lifeline_connections_accepted_total', 'Connections accepted.', () => c.accepted);
  readCounter(registry, 'lifeline_joins_total', 'Handshakes that joined a session.', () => c.joined);
  readCounter(registry, 'lifeline_events_published_total', 'Events published through this node.', () => c.published);
  readCounter(registry, 'lifeline_events_delivered_total', 'Live events delivered to connections of this node.', () => c.delivered);
  readCounter(registry, 'lifeline_replays_total', 'Joins that replayed history.', () => c.replays);
  readCounter(registry, 'lifeline_replayed_events_total', 'Events sent as replay.', () => c.replayedEvents);
  readCounter(registry, 'lifeline_messages_total', 'Client messages received.', () => c.messages);
  readCounter(registry, 'lifeline_message_duplicates_total', 'Client messages recognised as resends (fleet-wide).', () => c.duplicates);
  readCounter(registry, 'lifeline_message_retries_total', 'Client messages answered message_in_flight: an earlier copy was still being applied.', () => c.messageRetries);
  readCounter(registry, 'lifeline_http_posts_relayed_total', 'HTTP-binding POSTs forwarded to the node that holds their stream (fleet relay).', () => c.postsRelayed);
  readCounter(registry, 'lifeline_message_handler_timeouts_total', 'Client messages whose handlers had not settled within messageHandlerTimeoutMs (counted as applied and acked).', () => c.messageHandlerTimeouts);
  readCounter(registry, 'lifeline_message_claims_taken_over_total', 'Client message claims taken over from a lapsed lease (a node died or lost the store mid-message).', () => c.messageClaimsTakenOver);
  readCounter(registry, 'lifeline_evictions_total', 'Connections evicted as slow consumers.', () => c.slowConsumers);
  readCounter(registry, 'lifeline_liveness_timeouts_total', 'Connections closed for heartbeat silence.', () => c.reaped);
  readCounter(registry, 'lifeline_sessions_expired_total', 'Sessions forgotten after their TTL or expired by the app.', () => c.expired);
  readCounter(registry, 'lifeline_bad_frames_total', 'Frames refused as bad_frame or payload_too_large.', () => c.badFrames);
  readCounter(registry, 'lifeline_inbound_pauses_total', 'Times a connection stopped being read because its inbound queue was full.', () => c.inboundPauses);
  readCounter(registry, 'lifeline_presence_capped_total', 'hello_ok presence lists cut at maxPresenceEntries.', () => c.presenceCapped);
  readLabelledCounter(registry, 'lifeline_gaps_total', 'Joins that signalled a gap, by reason.', 'reason', () => c.gaps);
  readLabelledCounter(registry, 'lifeline_refusals_total', 'Handshakes refused, by error code.', 'code', () => c.refused);
  const roundTrips = new Histogram({
    name: 'lifeline_store_round_trip_seconds',
    help: 'Latency of each event-store (Redis) round trip made by this node.',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const stop = source.health.onRoundTrip((ms) => roundTrips.observe(ms / 1000));
  return {
    async scrape() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
    close() {
      stop();
    },
  };
}
