// Rate limited: the gateway allows one connection per address per 1.5 s. A reconnect right after
// a drop is refused with `rate_limited` and `retry_after_seconds`; the client waits at least
// that long (instead of its shorter backoff) and then gets back in.
import { sessionOf } from './helpers.js';
import type { Story } from './story.js';

export const rateLimited: Story = {
  name: 'rate-limited',
  title: 'Rate limited',
  summary: 'The gateway allows one connection per 1.5 s per address. A quick reconnect is refused with rate_limited and retry_after_seconds; the client honours it as a floor on its backoff, then rejoins.',
  gateway: { rateLimit: { connections: 1, perMs: 1500 } },
  async run(ctx) {
    const { stage, timeline, step, until, expect } = ctx;
    const client = ctx.client();
    // One step for both, so the drop follows the join at once whatever the page's pace: the quick
    // reconnect must land inside the 1.5 s window.
    await step('Connect (the one connection allowed per window), then the connection drops at once.');
    await client.connect();
    sessionOf(ctx, client);
    await stage.drop();
    const refusal = await until('a rate_limited refusal', () => timeline.of('error').find((e) => e.code === 'rate_limited'));
    expect(refusal.nextStep === 'wait_then_retry', 'the next step is wait_then_retry', refusal);
    const retryAfterMs = refusal.retryAfterMs ?? 0;
    expect(retryAfterMs >= 1000, 'the refusal says when to come back (retry_after_seconds)', refusal);
    const backoff = await until('the backoff after the refusal', () => timeline.of('backoff').find((b) => b.at >= refusal.at));
    expect(backoff.delayMs >= retryAfterMs, `the backoff honours it as a floor (${backoff.delayMs} ms >= ${retryAfterMs} ms)`, backoff);

    await step('After waiting, the client gets back in.');
    await until('the rejoin', () => timeline.of('joined').length >= 2, 5000);
    const stats = await stage.stats();
    expect(stats.refused['rate_limited'] === 1, 'exactly one refusal: no hammering', stats.refused);
  },
};
