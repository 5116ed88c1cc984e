// The Redis fleet's live feed: each session's events on its sharded channel (`{session}:fanout`,
// in the session's cluster slot), published by the append and confirm scripts themselves, so a
// node's own appends come back the same way as every other node's. Ending a session is a notice
// on the same channel, sent after the log deleted the session.
import { LogError } from '../event-log.js';
import type { LiveFeed, Unsubscribe } from '../fleet.js';
import type { RedisConnection } from './connection.js';
import type { SessionKeys } from './keys.js';
import { isErrorReply } from './redis-link.js';
import { END_NOTICE, parseLiveEvents } from './stream-codec.js';

/** The live feed on `connection`'s pub/sub; `keysOf` names each session's channel. */
export function createRedisSessionFeed(connection: RedisConnection, keysOf: (sessionId: string) => SessionKeys, retryAfterMs: number): LiveFeed {
  return {
    async subscribe(sessionId, onEvent, onEnded): Promise<Unsubscribe> {
      try {
        return await connection.pubsub.subscribe(keysOf(sessionId).channel, (message) => {
          if (message.startsWith(END_NOTICE)) return onEnded(message.slice(END_NOTICE.length));
          parseLiveEvents(message, onEvent);
        });
      } catch (error) {
        if (error instanceof LogError) throw error;
        const why = isErrorReply(error) ? 'Redis refused' : 'Redis is unreachable';
        throw new LogError('unavailable', `${why} (subscribe): ${error instanceof Error ? error.message : String(error)}`, retryAfterMs);
      }
    },
    // The append script published it already (the confirm script, for replicated durability).
    appended: () => undefined,
    async end(sessionId, reason) {
      // Reaches every node subscribed to the session (those holding connections to it).
      await connection.call('end', () => connection.client.sPublish(keysOf(sessionId).channel, `${END_NOTICE}${reason}`));
    },
    onRestored: (listener) => connection.pubsub.onRestored(listener),
  };
}
