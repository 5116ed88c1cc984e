// A half-open connection: the route dies but neither side sees a close. The heartbeat watchdog
// notices the silence (twice the negotiated heartbeat), drops the socket and reconnects; the
// events sent into the void are replayed.
import { eventsDelivered, expectSeqs, range, sessionOf } from './helpers.js';
import type { Story } from './story.js';

const HEARTBEAT_MS = 300;

export const halfOpen: Story = {
  name: 'half-open',
  title: 'Half-open connection healed by the heartbeat',
  summary: `The network silently stops forwarding; no close ever arrives. After ${2 * HEARTBEAT_MS} ms of silence (twice the ${HEARTBEAT_MS} ms heartbeat) the client gives up on the socket, reconnects, and the events lost in the stalled link are replayed.`,
  gateway: { heartbeatMs: HEARTBEAT_MS },
  async run(ctx) {
    const { stage, timeline, step, until, expect } = ctx;
    const client = ctx.client();
    await step('Connect and receive two events.');
    await client.connect();
    const session = sessionOf(ctx, client);
    await stage.publish(session, 2);
    await eventsDelivered(ctx, 2);

    await step('The link goes half-open: sockets stay open, nothing gets through. Two events are sent into it.');
    await stage.stall();
    await stage.publish(session, 2);
    const missed = await until('the heartbeat watchdog', () => timeline.of('transition').find((t) => t.event === 'heartbeat.missed'), 3000);
    expect(missed.to.startsWith('reconnecting'), 'a missed heartbeat moves the client to reconnecting', missed);

    await step('The route heals; the client is already reconnecting on a fresh socket.');
    await stage.resume();
    await until('the rejoin', () => timeline.of('joined').length >= 2);
    await eventsDelivered(ctx, 4);
    expectSeqs(ctx, range(1, 4));
    const replayed = timeline.of('event').filter((e) => e.replayed).map((e) => e.seq);
    expect(JSON.stringify(replayed) === '[3,4]', 'the two events lost in the stall are replayed', { replayed });
  },
};
