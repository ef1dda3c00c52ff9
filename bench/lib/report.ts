import { type Summary, summarize } from './stats.js';

/** A table as printed: a title, column headers and rows of already formatted cells. */
export interface BenchTable {
  title: string;
  columns: string[];
  rows: string[][];
}

/** One line of the final summary: the figure a benchmark exists to show. */
export interface Headline {
  label: string;
  value: string;
  /** What the issue aims at, printed next to the value; never asserted. */
  target?: string;
}

export interface BenchReport {
  tables: BenchTable[];
  headlines: Headline[];
  notes: string[];
}

export interface TimedCase {
  label: string;
  samples: readonly number[];
}

export const ms = (value: number) => value.toFixed(value < 10 ? 2 : 1);
export const ratio = (value: number) => `${value.toFixed(2)}x`;
export const megabytes = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/**
 * Median, p95 and ops/s of each case, and each median divided by the reference's median (the
 * first case). Returns the summaries too, for headlines.
 */
export function timingTable(
  title: string,
  reference: TimedCase,
  others: readonly TimedCase[],
): { table: BenchTable; summaries: Map<string, Summary> } {
  const summaries = new Map<string, Summary>();
  const ref = summarize(reference.samples);
  summaries.set(reference.label, ref);
  const row = (label: string, s: Summary, isReference: boolean) => [
    isReference ? `${label} (reference)` : label,
    String(s.n),
    ms(s.median),
    ms(s.p95),
    s.opsPerSecond.toFixed(s.opsPerSecond < 10 ? 2 : 0),
    isReference ? '1.00x' : ratio(s.median / ref.median),
  ];
  const rows = [row(reference.label, ref, true)];
  for (const other of others) {
    const s = summarize(other.samples);
    summaries.set(other.label, s);
    rows.push(row(other.label, s, false));
  }
  return {
    table: {
      title,
      columns: ['case', 'n', 'median ms', 'p95 ms', 'ops/s', 'ratio (median)'],
      rows,
    },
    summaries,
  };
}

/** Left-aligned first column, right-aligned numbers, a rule under the header. */
export function renderTable(table: BenchTable): string {
  const widths = table.columns.map((column, i) =>
    Math.max(column.length, ...table.rows.map((row) => (row[i] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number)))
      .join('  ');
  return [
    table.title,
    line(table.columns),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...table.rows.map(line),
  ].join('\n');
}
