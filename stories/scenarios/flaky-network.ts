// Flaky network: the connection is reset three times while the gateway keeps publishing. Each
// time the client backs off, resumes from its cursor, and gets exactly what it missed.
import { eventsDelivered, expectSeqs, mark, range, sessionOf, since } from './helpers.js';
import type { Story } from './story.js';

const DROPS = 3;
const MISSED_PER_DROP = 2;

export const flakyNetwork: Story = {
  name: 'flaky-network',
  title: 'Flaky network',
  summary: 'The network resets the connection three times while events keep coming. The client backs off, resumes from its cursor each time, and gets exactly the events it missed: no gap, no duplicate.',
  gateway: {},
  async run(ctx) {
    const { stage, timeline, step, until, expect } = ctx;
    const client = ctx.client();
    await step('Connect and receive a few events.');
    await client.connect();
    const session = sessionOf(ctx, client);
    await stage.publish(session, 3);
    await eventsDelivered(ctx, 3);

    let expected = 3;
    for (let drop = 1; drop <= DROPS; drop++) {
      await step(`Drop ${drop} of ${DROPS}: the network goes down and events are published meanwhile.`);
      const before = mark(ctx);
      await stage.refuse(true);
      await stage.drop();
      // While the network is down the client may try (and back off) more than once.
      await until('the client to notice the drop and back off', () => since(ctx, before, 'backoff'));
      await stage.publish(session, MISSED_PER_DROP);
      expected += MISSED_PER_DROP;
      await step('The network comes back: the client resumes and replays what it missed.');
      await stage.refuse(false);
      const joined = await until('the rejoin', () => since(ctx, before, 'joined'));
      await eventsDelivered(ctx, expected);
      expect(joined.resume.startsWith('resume full'), `resume ${drop} is full (nothing lost)`, joined);
    }

    expectSeqs(ctx, range(1, expected));
    expect(timeline.of('gap').length === 0, 'no gap reported');
    const replayed = timeline.of('event').filter((e) => e.replayed).length;
    expect(replayed === DROPS * MISSED_PER_DROP, `${DROPS * MISSED_PER_DROP} events replayed on resume`, { replayed });
    expect(timeline.of('joined').length === DROPS + 1, `back to joined after each of the ${DROPS} drops`);
  },
};
