// An outage longer than the replay window: while the client is away the gateway publishes more
// than it keeps. On resume the client gets what is still held, a `window` gap for the rest, and
// resyncs from a snapshot.
import { eventsDelivered, range, sessionOf } from './helpers.js';
import type { Story } from './story.js';

const WINDOW = 5;

export const outagePastWindow: Story = {
  name: 'outage-past-window',
  title: 'Outage longer than the replay window',
  summary: `The gateway keeps only the last ${WINDOW} events per session. The client is offline while 10 are published, so on resume it gets the last ${WINDOW}, a gap for the ones that fell out of the window, and a snapshot via resync().`,
  gateway: { replayWindow: WINDOW },
  async run(ctx) {
    const { stage, timeline, step, until, expect } = ctx;
    const client = ctx.client();
    client.onGap(() => void client.resync().catch(() => undefined));
    await step('Connect and receive two events.');
    await client.connect();
    const session = sessionOf(ctx, client);
    await stage.publish(session, 2);
    await eventsDelivered(ctx, 2);

    await step(`The network goes down; 10 events are published, more than the ${WINDOW} the gateway keeps.`);
    await stage.refuse(true);
    await stage.drop();
    await until('the client to back off', () => timeline.of('backoff').length >= 1);
    await stage.publish(session, 10);
    await stage.setState(session, { summary: 'state as of event #12' });

    await step('The network comes back.');
    await stage.refuse(false);
    const gap = await until('a gap', () => timeline.of('gap')[0]);
    expect(gap.reason === 'window' && gap.expected === 3 && gap.received === 8, 'a window gap: #3..#7 are gone', gap);
    await eventsDelivered(ctx, 7);
    const replayed = timeline.of('event').filter((e) => e.replayed).map((e) => e.seq);
    expect(JSON.stringify(replayed) === JSON.stringify(range(8, 12)), 'the events still held (#8..#12) are replayed', { replayed });
    const snapshot = await until('a snapshot', () => timeline.of('resync')[0]);
    expect(snapshot.cursor === 12, 'resync() returns a snapshot as of #12', snapshot);
  },
};
