// Drain during a deploy: the new gateway starts, the old one sends `draining` with a reconnect
// hint and closes 1001. The client reconnects after the hint without counting a failure, and
// resumes on the new gateway with nothing lost.
import { eventsDelivered, expectSeqs, mark, range, sessionOf, since } from './helpers.js';
import type { Story } from './story.js';

export const drainDuringDeploy: Story = {
  name: 'drain-during-deploy',
  title: 'Drain during a deploy',
  summary: 'A new gateway instance takes over and the old one drains: it tells the client when to come back and closes 1001. The client moves over after the hint, without counting a failure and without losing an event.',
  gateway: {},
  async run(ctx) {
    const { stage, timeline, step, until, expect } = ctx;
    const client = ctx.client();
    await step('Connect and receive two events.');
    await client.connect();
    const session = sessionOf(ctx, client);
    await stage.publish(session, 2);
    await eventsDelivered(ctx, 2);

    await step('Deploy: start the new instance, then drain the old one.');
    const before = mark(ctx);
    await stage.deploy({ spreadMs: 200 });
    const drained = await until('the draining notice', () => timeline.of('transition').find((t) => t.event === 'draining'));
    expect(drained.to.startsWith('reconnecting'), 'draining moves the client to reconnecting', drained);
    const backoff = await until('the wait before reconnecting', () => since(ctx, before, 'backoff'));
    expect(backoff.attempt === 0, 'a drain is not counted as a failure', backoff);
    await until('the rejoin', () => timeline.of('joined').length >= 2);

    await step('The new instance publishes; the client is on it.');
    await stage.publish(session, 2);
    await eventsDelivered(ctx, 4);
    expectSeqs(ctx, range(1, 4));
    expect(timeline.of('gap').length === 0, 'no gap across the deploy');
  },
};
