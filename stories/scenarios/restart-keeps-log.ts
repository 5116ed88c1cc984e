// A gateway restart that keeps its log: the client rides out the crash, resumes in the same epoch,
// and numbering simply continues. Nothing is lost and no gap is reported.
import { eventsDelivered, expectSeqs, range, sessionOf } from './helpers.js';
import type { Story } from './story.js';

export const restartKeepsLog: Story = {
  name: 'restart-keeps-log',
  title: 'Gateway restart, log kept',
  summary: 'The gateway crashes and comes back with the same event log. The client backs off, resumes in the same epoch, and the numbering continues with no gap.',
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

    await step('The gateway process dies without closing its sockets.');
    await stage.crashGateway();
    await until('the client to back off', () => timeline.of('backoff').length >= 1);
    await step('It restarts with the same log (a durable store survived).');
    await stage.bootGateway({ keepLog: true });
    await until('the rejoin', () => timeline.of('joined').length >= 2);
    await stage.publish(session, 2);
    await eventsDelivered(ctx, 5);

    expect(client.info.epoch === epoch, 'the same epoch after the restart', { before: epoch, after: client.info.epoch });
    expect(timeline.of('gap').length === 0, 'no gap reported');
    expectSeqs(ctx, range(1, 5), 'numbering continues after the restart');
  },
};
