import { writeFileSync } from 'node:fs';

/** One line of the results: `target` is a bound (">= 100000", "< 150") or "report" (no bound, ok when measured). */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  target: string;
  ok: boolean;
  /** What else the run saw (the loop's rate, answer sizes...). */
  note?: string;
}

/** A figure with a lower bound. */
export const atLeast = (name: string, value: number, unit: string, min: number, note?: string): Figure => ({
  name,
  value,
  unit,
  target: `>= ${round(min)}`,
  ok: value >= min,
  ...(note ? { note } : {}),
});

/** A figure with an upper bound. */
export const below = (name: string, value: number, unit: string, max: number, note?: string): Figure => ({
  name,
  value,
  unit,
  target: `< ${round(max)}`,
  ok: value < max,
  ...(note ? { note } : {}),
});

/** A figure reported without a bound. */
export const reported = (name: string, value: number, unit: string, note?: string): Figure => ({
  name,
  value,
  unit,
  target: 'report',
  ok: true,
  ...(note ? { note } : {}),
});

/** Rounds to 3 significant digits (at least integers above 100). */
export function round(n: number): number {
  if (!Number.isFinite(n) || n === 0) return n;
  if (Math.abs(n) >= 100) return Math.round(n);
  const p = 10 ** (2 - Math.floor(Math.log10(Math.abs(n))));
  return Math.round(n * p) / p;
}

/** Prints one figure as a table row as soon as it is known. */
export function printRow(f: Figure): void {
  const value = `${round(f.value).toLocaleString('en-US')} ${f.unit}`;
  console.log(
    `${f.ok ? 'ok  ' : 'FAIL'} ${f.name.padEnd(44)} ${value.padStart(22)}  ${f.target.padEnd(14)}${f.note ? ` ${f.note}` : ''}`,
  );
}

export function printHeader(): void {
  console.log(`${'    '} ${'figure'.padEnd(44)} ${'value'.padStart(22)}  ${'target'.padEnd(14)} note`);
}

/** Writes every figure (rounded) to `path` as JSON. */
export function writeResults(path: string, meta: Record<string, unknown>, figures: readonly Figure[]): void {
  const rows = figures.map((f) => ({ ...f, value: round(f.value) }));
  writeFileSync(path, `${JSON.stringify({ ...meta, figures: rows }, null, 2)}\n`);
}
