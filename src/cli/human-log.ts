// The CLI's log lines for a person at a terminal: `12:04:05.120 info  gateway listening port=8787`,
// one line per pino record, next to the commands' own banners. `--log-format json` keeps pino's
// JSON lines for machines. A plain synchronous stream rather than pino-pretty: no dependency, no
// worker thread, and the order of log lines and banner lines on the terminal stays the order
// they were written in.

/** pino's numeric levels, as the human format names them. */
const LEVEL_NAMES: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

/** Fields every record carries that the human line leaves out (the time and level lead the line). */
const OMITTED: ReadonlySet<string> = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'component']);

/** A value as `key=value` shows it: bare when it is one plain word, JSON otherwise. */
function shown(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}

/** `HH:MM:SS.mmm` in local time. */
function clockTime(epochMs: number): string {
  const at = new Date(epochMs);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())}.${String(at.getMilliseconds()).padStart(3, '0')}`;
}

/** One pino JSON line as a human line (with its newline); a line that is not a record passes through. */
export function humanLogLine(json: string): string {
  let record: unknown;
  try {
    record = JSON.parse(json);
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  if (typeof record !== 'object' || record === null) return `${json.trimEnd()}\n`;
  const fields = record as Record<string, unknown>;
  const level = typeof fields['level'] === 'number' ? (LEVEL_NAMES[fields['level']] ?? String(fields['level'])) : 'info';
  const time = typeof fields['time'] === 'number' ? clockTime(fields['time']) : '';
  const rest = Object.entries(fields)
    .filter(([key, value]) => !OMITTED.has(key) && value !== undefined)
    .map(([key, value]) => `${key}=${shown(value)}`);
  return `${[time, level.padEnd(5), String(fields['msg'] ?? ''), ...rest].filter((part) => part !== '').join(' ')}\n`;
}

/** A pino destination that writes each record to `write` as a human line. */
export function humanLogStream(write: (line: string) => void): { write(json: string): void } {
  return { write: (json) => write(humanLogLine(json)) };
}
