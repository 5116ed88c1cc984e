// Sends while offline: messages sent while the client is reconnecting wait in its outbox, go out
// after the rejoin with the same ids, and the gateway applies each exactly once. A message in
// flight when the link drops is resent and recognised as a duplicate, not applied twice.
import type { SendResult } from '../../src/client/index.js';
import { sessionOf } from './helpers.js';
import type { Story } from './story.js';

export const offlineSends: Story = {
  name: 'offline-sends',
  title: 'Sends queued while offline',
  summary: 'The app sends two messages while the network is down; they wait in the outbox and are delivered once the client rejoins. A third is in flight when the link drops and is resent with the same id (a copy that did arrive is acknowledged as a duplicate, not applied again). The gateway applies each message exactly once, and the demo agent answers each.',
  gateway: {},
  async run(ctx) {
    const { stage, timeline, step, until, expect } = ctx;
    const client = ctx.client();
    const ack = (label: string) => (result: SendResult) => timeline.add({ kind: 'ack', duplicate: result.duplicate, text: `ack for "${label}"${result.duplicate ? ' (duplicate: already applied)' : ''}` });
    await step('Connect.');
    await client.connect();
    sessionOf(ctx, client);

    await step('The network goes down; the app sends two messages anyway.');
    await stage.refuse(true);
    await stage.drop();
    await until('the client to back off', () => timeline.of('backoff').length >= 1);
    const first = client.send('first').then(ack('first'));
    const second = client.send('second').then(ack('second'));
    expect(client.state !== 'joined', 'the messages are queued, not sent');

    await step('The network comes back: the outbox is flushed after the rejoin.');
    await stage.refuse(false);
    await Promise.all([first, second]);

    await step('A third message is in flight when the link drops; it is resent with the same id after the rejoin.');
    const third = client.send('third').then(ack('third'));
    await stage.drop();
    await third;

    // Every send resolved on the gateway's ack, and the gateway acks after applying: count now.
    const stats = await stage.stats();
    for (const text of ['first', 'second', 'third']) {
      const times = stats.messages.filter((m) => m === text).length;
      expect(times === 1, `the gateway applied "${text}" exactly once`, { times, messages: stats.messages });
    }
    await until('the demo agent to answer all three', () => timeline.of('event').filter((e) => e.type === 'reply').length >= 3);
    expect(timeline.of('gap').length === 0, 'no gap');
  },
};
