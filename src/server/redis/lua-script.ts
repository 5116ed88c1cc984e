// A Lua script as node-redis runs it for the session caps and the message claims: its keys go
// with their count (so one definition takes any number of them), then its string arguments; the
// reply comes back untyped, for the caller to check.
import { defineScript, type CommandParser } from 'redis';

function parseCommand(parser: CommandParser, keys: readonly string[], args: readonly string[]): void {
  parser.push(String(keys.length));
  for (const key of keys) parser.pushKey(key);
  parser.push(...args);
}

const transformReply = (reply: unknown): unknown => reply;

/** A script called as `client.name(keys, args)`, for `createClient({ scripts })`. */
export function luaScript(source: string) {
  return defineScript({ SCRIPT: source, parseCommand, transformReply });
}
