import { stringify as toYaml } from 'yaml';
import { LifelineError } from './errors.ts';

/** Output formats every command accepts with `-o`. Default: `table`. */
export const OUTPUT_FORMATS = ['table', 'json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Validates a `-o` value. */
export function parseOutputFormat(value: string): OutputFormat {
  if ((OUTPUT_FORMATS as readonly string[]).includes(value)) return value as OutputFormat;
  throw new LifelineError('cli.output', `unknown output format "${value}"`, {
    where: '-o/--output',
    fix: `use one of: ${OUTPUT_FORMATS.join(', ')}`,
  });
}

/** A column of a table: header and how to read the cell from a row. */
export interface Column<T> {
  header: string;
  get: (row: T) => string | number | boolean | undefined | null;
}

/** Renders rows as an aligned text table (kubectl style). */
export function renderTable<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((r) => columns.map((c) => String(c.get(r) ?? '')));
  const headers = columns.map((c) => c.header.toUpperCase());
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i]?.length ?? 0)));
  const line = (vals: readonly string[]): string =>
    vals
      .map((v, i) => (i === vals.length - 1 ? v : v.padEnd(widths[i] ?? 0)))
      .join('   ')
      .trimEnd();
  return [line(headers), ...cells.map(line)].join('\n');
}

/** Renders `data` in the chosen format; `table` uses `columns` (or YAML when none fit). */
export function render<T>(
  format: OutputFormat,
  data: T | readonly T[],
  columns?: readonly Column<T>[],
): string {
  switch (format) {
    case 'json':
      return JSON.stringify(data, null, 2);
    case 'yaml':
      return toYaml(data).trimEnd();
    case 'table': {
      if (columns === undefined) return toYaml(data).trimEnd();
      const rows = Array.isArray(data) ? (data as readonly T[]) : [data as T];
      return renderTable(rows, columns);
    }
  }
}
