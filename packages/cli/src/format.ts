import type { ApiKey } from '@keyward/core';

const day = (date: Date | null): string => (date ? date.toISOString() : '—');

/** Keys as a text table, one per line. */
export function keyTable(keys: ApiKey[]): string {
  const rows = [
    ['ID', 'NAME', 'TYPE', 'STATUS', 'SCOPES', 'KEY', 'EXPIRES', 'LAST USED', 'PLAN'],
    ...keys.map((key) => [
      key.id,
      key.name,
      key.type,
      key.status,
      key.scopes.join(',') || '—',
      key.redactedKey,
      day(key.expiresAt),
      day(key.lastUsedAt),
      key.plan ?? '—',
    ]),
  ];
  return columns(rows);
}

/**
 * Rows of cells as aligned text columns, two spaces apart (the first row is the header).
 *
 * @example
 * columns([['ID', 'NAME'], ['key_1', 'CI']]); // "ID     NAME\nkey_1  CI"
 */
export function columns(rows: string[][]): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** A key without its token, for `--json`. */
export function keyJSON(key: ApiKey): Omit<ApiKey, 'token'> {
  const { token: _token, ...rest } = key;
  return rest;
}
