// A gateway restart that loses its log: the history the client followed is gone. The new gateway
// adopts the session under a new epoch, the client reports an epoch gap, and `resync()` fetches a
// snapshot to continue from.
import { eventsDelivered, sessionOf } from './helpers.js';
import type { Story } from './story.js';

export const restartLosesLog: Story = {
  name: 'restart-loses-log',
  title: 'Gateway restart, log lost',
  summary: 'The gateway comes back with an empty log: a new epoch. The client notices the epoch change, reports a gap instead of silently continuing, and resyncs from a snapshot.',
  gateway: {},
  async run(ctx) {
    const { stage, timeline, step, until, expect } = ctx;
    const client = ctx.client();
    await step('Connect and receive three events.');
    await client.connect();
    const session = sessionOf(ctx, client);
    await stage.publish(session, 3);
    await eventsDelivered(ctx, 3);
    const epoch = client.info.epoch;

    await step('The gateway crashes and restarts with a fresh, empty log.');
    await stage.crashGateway();
    await until('the client to back off', () => timeline.of('backoff').length >= 1);
    await stage.bootGateway({ keepLog: false });
    const gap = await until('a gap', () => timeline.of('gap')[0]);
    expect(gap.reason === 'epoch', 'the gap is an epoch change', gap);
    expect(client.info.epoch !== epoch, 'the client follows the new epoch', { before: epoch, after: client.info.epoch });

    await step('The app answers the gap with resync(); the gateway serves a snapshot.');
    await until('the rejoin', () => client.state === 'joined');
    await stage.setState(session, { note: 'rebuilt after the restart' });
    const snapshot = await client.resync();
    expect(snapshot.cursor === 0, 'the snapshot is of the new, empty history (cursor 0)', snapshot);

    await step('New events are numbered from 1 in the new epoch and delivered.');
    await stage.publish(session, 2);
    await eventsDelivered(ctx, 5);
    const after = timeline.seqs().slice(3);
    expect(JSON.stringify(after) === '[1,2]', 'events #1 and #2 of the new epoch delivered', { after });
  },
};
