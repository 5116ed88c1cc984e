// The connection the Redis log runs its scripts on: a node-redis standalone or cluster client with
// every script defined (the log's, the session caps' and the message claims'). A module of its
// own, so the services that share the connection (presence) type it without importing the log.
import type { RedisClientType, RedisClusterType } from 'redis';
import { LIFELINE_SCRIPTS } from './scripts.js';
import { MESSAGE_CLAIM_SCRIPTS } from './message-claims.js';
import { SESSION_CAP_SCRIPTS } from './session-caps.js';

/** Every script the data connection defines. */
export const DATA_SCRIPTS = { ...LIFELINE_SCRIPTS, ...SESSION_CAP_SCRIPTS, ...MESSAGE_CLAIM_SCRIPTS };
type Scripts = typeof DATA_SCRIPTS;
// node-redis types are generic over modules, functions, scripts, RESP and type mapping.
export type StandaloneClient = RedisClientType<Record<string, never>, Record<string, never>, Scripts>;
export type ClusterClient = RedisClusterType<Record<string, never>, Record<string, never>, Scripts>;
/** A standalone client or a cluster client, each with the log's scripts. */
export type DataClient = StandaloneClient | ClusterClient;
