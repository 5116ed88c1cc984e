// What a bench returns and how it is printed: a human table, or one JSON object per line.
import { round, summarize, type Summary } from './stats.js';

/** `full` is the published table; `smoke` runs every code path with tiny N for CI. */
export type Scale = 'full' | 'smoke';

/** One measured figure with its spread. Ratios are figures with unit `x`. */
export interface Figure extends Summary {
  readonly bench: string;
  /** The scenario, e.g. `live`, `outage_500ms`, `clients_1000`. */
  readonly case: string;
  /** Who was measured: `lifeline`, `ws`, `socket.io-client`, `lifeline/ws`, … */
  readonly subject: string;
  readonly metric: string;
  readonly unit: string;
}

/** A target from the issue, checked against a figure of the same run. */
export interface Target {
  readonly bench: string;
  readonly case: string;
  readonly target: string;
  readonly value: number;
  readonly met: boolean;
}

export interface BenchResult {
  readonly figures: Figure[];
  readonly targets: Target[];
  readonly notes: string[];
}

/** A bench module: `run` owns its processes and must stop all of them before resolving. */
export interface Bench {
  readonly name: string;
  readonly title: string;
  run(scale: Scale, progress: (line: string) => void): Promise<BenchResult>;
}

/** Summarise samples into a figure. */
export function figure(bench: string, kase: string, subject: string, metric: string, unit: string, samples: readonly number[]): Figure {
  const s = summarize(samples);
  return { bench, case: kase, subject, metric, unit, median: round(s.median), p25: round(s.p25), p75: round(s.p75), min: round(s.min), max: round(s.max), n: s.n };
}

/** One JSON line: `meta` first, then `figure`, `target` and `note` lines, and `end` last (failures, what was left open). */
export function jsonLine(kind: 'meta' | 'figure' | 'target' | 'note' | 'end', body: object): string {
  return JSON.stringify({ kind, ...body });
}

function fmt(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return Math.abs(value) >= 10_000 ? Math.round(value).toLocaleString('en-US') : String(value);
}

function pad(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
}

/** The human table of one bench: figures, then targets. */
export function humanTable(bench: Bench, result: BenchResult): string {
  const rows = [['case', 'subject', 'metric', 'median', 'p25..p75', 'min..max', 'n', 'unit']];
  for (const f of result.figures) {
    rows.push([f.case, f.subject, f.metric, fmt(f.median), `${fmt(f.p25)}..${fmt(f.p75)}`, `${fmt(f.min)}..${fmt(f.max)}`, String(f.n), f.unit]);
  }
  const lines = [`## ${bench.name}: ${bench.title}`, '', pad(rows)];
  if (result.targets.length > 0) {
    lines.push('');
    for (const t of result.targets) lines.push(`${t.met ? 'MET ' : 'MISS'}  ${t.case}: ${t.target} (measured ${fmt(round(t.value))})`);
  }
  for (const note of result.notes) lines.push(`note: ${note}`);
  return lines.join('\n');
}
