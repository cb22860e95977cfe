import { createReadStream, statSync } from 'node:fs';
import type { ImportKeyInput, ImportResult, Keyward } from '@keyward/core';
import { ownerFilterSchema } from '@keyward/core/schemas';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { parse } from 'csv-parse';
import { CliError, EXIT } from './exit-codes.js';

/** Rows sent to `importKeys` at a time. */
const BATCH_SIZE = 1_000;
/** Refused rows listed one by one on stderr; the rest are counted. */
const MAX_LISTED = 100;

/** The longest field csv-parse buffers (characters): a row of this CLI is far shorter. */
const MAX_FIELD = 64 * 1024;
/** The shortest plaintext token imported: shorter ones are guessable, or a column mix-up. */
export const MIN_TOKEN_LENGTH = 16;

/** The CSV columns `keyward import` reads; the header names them, in any order. */
export const IMPORT_COLUMNS = [
  'organization',
  'name',
  'type',
  'token',
  'sha256',
  'scopes',
  'expiresAt',
  'disabled',
  'owner',
  'meta',
  'plan',
] as const;

/** What one run of `keyward import` did. */
export interface ImportReport {
  imported: number;
  /** Rows whose token was imported before (a re-run, or the same token twice): skipped. */
  existing: number;
  /** Imported keys stored disabled (`disabled` column). */
  disabled: number;
  refused: Array<{ line: number; problems: string[] }>;
}

/** A row ready for `importKeys`. */
interface PendingRow {
  line: number;
  organizationId: string;
  input: ImportKeyInput;
  disabled: boolean;
}

/** What the import needs from the program around it. */
export interface ImportIo {
  stderr: (text: string) => void;
  /** Whether stderr is a terminal (the progress bar shows only there). */
  stderrIsTTY: boolean;
  /** The stream the progress bar draws on. */
  progressStream: NodeJS.WritableStream;
}

/**
 * Reads `file` (CSV with a header row of `IMPORT_COLUMNS`) and imports every row into its `organization`
 * (or `defaultOrganization`, from `--org`, when the row has none), up to `BATCH_SIZE` rows at a time. Rows
 * whose token is there already count as `existing`, so a re-run after an interruption imports only the
 * rest; a row with `disabled` true is stored disabled in the import's one write. Refused rows are reported with their line
 * numbers. A file that is not CSV, a field over 64 K characters, or a header that repeats a column or
 * lacks `name`, `type` and `token` or `sha256` throws `CliError` (exit 2). Values are never echoed (they
 * may be tokens): messages name columns and lines only.
 *
 * @example
 * const report = await importCsv(keyward, 'keys.csv', 'org_1', io, { progress: true });
 */
export async function importCsv(
  keyward: Keyward,
  file: string,
  defaultOrganization: string | undefined,
  io: ImportIo,
  options: { progress: boolean },
): Promise<ImportReport> {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    throw new CliError(`Cannot read ${file}.`, EXIT.usage);
  }
  const report: ImportReport = { imported: 0, existing: 0, disabled: 0, refused: [] };
  const bar =
    options.progress && io.stderrIsTTY
      ? new SingleBar({
          stream: io.progressStream,
          format: '{bar} {percentage}% | {imported} imported, {existing} already there, {refused} refused',
          hideCursor: true,
          clearOnComplete: false,
        })
      : null;
  bar?.start(size, 0, { imported: 0, existing: 0, refused: 0 });
  const parser = createReadStream(file).pipe(
    parse({
      bom: true,
      columns: (header: string[]) => checkHeader(header, defaultOrganization),
      max_record_size: MAX_FIELD,
      skip_empty_lines: true,
      trim: true,
      info: true,
    }),
  );
  let batch: PendingRow[] = [];
  let bytes = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    // One importKeys call per organization in the batch, rows in file order within each.
    const byOrganization = new Map<string, PendingRow[]>();
    for (const row of batch) {
      const rows = byOrganization.get(row.organizationId);
      if (rows) rows.push(row);
      else byOrganization.set(row.organizationId, [row]);
    }
    batch = [];
    for (const [organizationId, rows] of byOrganization) {
      const results = await keyward.importKeys(
        organizationId,
        rows.map((row) => row.input),
      );
      for (const [i, result] of results.entries()) {
        const row = rows[i] as PendingRow;
        count(report, result, row.line);
        if (row.disabled && result.status === 'imported') report.disabled++;
      }
    }
    bar?.update(bytes, {
      imported: report.imported,
      existing: report.existing,
      refused: report.refused.length,
    });
  };
  try {
    for await (const { record, info } of parser as AsyncIterable<{
      record: Record<string, string>;
      info: { lines: number; bytes: number };
    }>) {
      bytes = info.bytes;
      const row = toRow(record, info.lines, defaultOrganization);
      if ('problems' in row) report.refused.push(row);
      else batch.push(row);
      if (batch.length >= BATCH_SIZE) await flush();
    }
    await flush();
  } catch (error) {
    const { code, lines } = (error ?? {}) as { code?: unknown; lines?: unknown };
    if (typeof code === 'string' && code.startsWith('CSV_')) {
      // Only the code and line: csv-parse's message may quote a value, and values may be tokens.
      throw new CliError(
        `${file}: not valid CSV near line ${typeof lines === 'number' ? lines : '?'} (${code}); nothing after it was read.`,
        EXIT.usage,
      );
    }
    throw error;
  } finally {
    bar?.update(bytes);
    bar?.stop();
  }
  report.refused.sort((a, b) => a.line - b.line);
  return report;
}

function count(report: ImportReport, result: ImportResult, line: number): void {
  if (result.status === 'imported') report.imported++;
  else if (result.status === 'exists') report.existing++;
  else {
    const problems = result.error.details?.map((d) => `${d.path || '(row)'}: ${redact(d.message)}`) ?? [
      redact(result.error.message),
    ];
    report.refused.push({ line, problems });
  }
}

/**
 * A validation message without the values it quotes (`Unknown scope "…"`): a token pasted into the wrong
 * column must not reach a terminal or a CI log. The path (`scopes.1`) says which value it was.
 */
function redact(message: string): string {
  return message.replace(/"[^"]*"/g, '(value not shown)');
}

function checkHeader(header: string[], defaultOrganization: string | undefined): string[] {
  const known = IMPORT_COLUMNS as readonly string[];
  const unknown = header.flatMap((column, i) => (known.includes(column) ? [] : [columnLabel(column, i)]));
  const missing = ['name', 'type'].filter((column) => !header.includes(column));
  if (unknown.length > 0 || missing.length > 0 || !(header.includes('token') || header.includes('sha256'))) {
    throw new CliError(
      `The header must name the columns ${IMPORT_COLUMNS.join(', ')} (name, type and token or sha256 ` +
        `required)${unknown.length > 0 ? `; unknown: ${unknown.join(', ')}` : ''}.`,
      EXIT.usage,
    );
  }
  // A repeated column would let one cell silently win over the other (a 1-character token did).
  const repeated = header.find((column, i) => header.indexOf(column) !== i);
  if (repeated !== undefined) {
    throw new CliError(`The header names the column ${repeated} more than once.`, EXIT.usage);
  }
  if (defaultOrganization === undefined && !header.includes('organization')) {
    throw new CliError('Give --org, or an organization column in the file.', EXIT.usage);
  }
  return header;
}

/**
 * How an unknown header cell is named in a message: as written when it looks like a column name (letters
 * and `_`, at most 15: shorter than any token imported), else by position, in case the file has no header
 * and this is a value.
 */
function columnLabel(column: string, index: number): string {
  return /^[A-Za-z_]{1,15}$/.test(column) ? column : `column ${index + 1}`;
}

/**
 * A CSV row as `importKey` input and its organization: empty cells are absent; scopes are separated by
 * spaces or commas. Rows this CLI refuses before the service sees them come back with their problems.
 */
function toRow(
  record: Record<string, string>,
  line: number,
  defaultOrganization: string | undefined,
): PendingRow | { line: number; problems: string[] } {
  const problems: string[] = [];
  const organizationId = record.organization || defaultOrganization;
  if (!organizationId) problems.push('organization: Required (the row has none and --org is not given).');
  if (record.token && record.token.length < MIN_TOKEN_LENGTH) {
    problems.push(`token: Must be at least ${MIN_TOKEN_LENGTH} characters.`);
  }
  const disabled = parseFlag(record.disabled);
  if (disabled === null) problems.push('disabled: Must be true or false (or empty).');
  if (problems.length > 0 || !organizationId || disabled === null) return { line, problems };
  const input: Record<string, unknown> = { name: record.name ?? '', type: record.type ?? '' };
  if (record.token) input.token = record.token;
  if (record.sha256) input.sha256 = record.sha256;
  if (record.scopes) input.scopes = record.scopes.split(/[\s,]+/).filter(Boolean);
  if (record.expiresAt) input.expiresAt = record.expiresAt;
  // owner as `user:<id>` / `service:<id>`, meta as a JSON object, plan by name (KEYWARD_PLANS).
  if (record.owner) input.owner = ownerCell(record.owner);
  if (record.meta) {
    try {
      input.meta = JSON.parse(record.meta);
    } catch {
      return { line, problems: ['meta: Must be a JSON object.'] };
    }
  }
  if (record.plan) input.plan = record.plan;
  // Stored disabled in the import's own write (never imported, then disabled: no window where it works).
  if (disabled) input.disabled = true;
  return { line, organizationId, input: input as ImportKeyInput, disabled };
}

/** `user:u_1` as `{ type: 'user', id: 'u_1' }`; anything else goes through as is, for the service's 400. */
function ownerCell(value: string): unknown {
  const parsed = ownerFilterSchema.safeParse(value);
  return parsed.success ? parsed.data : value;
}

/** `true`/`yes`/`1` or `false`/`no`/`0`/empty, in any case; `null` for anything else. */
function parseFlag(value: string | undefined): boolean | null {
  const text = (value ?? '').toLowerCase();
  if (text === '' || text === 'false' || text === 'no' || text === '0') return false;
  if (text === 'true' || text === 'yes' || text === '1') return true;
  return null;
}

/**
 * Adds `import FILE.csv --org ID` to `program`. `open` gives the service (and closes it after `use`).
 *
 * @example
 * registerImport(program, io, withSession, (code) => { exitCode = code; }, requireCatalog);
 */
export function registerImport(
  program: Command,
  io: ImportIo & { stdout: (text: string) => void },
  withSession: (use: (session: { keyward: Keyward }) => Promise<void>) => Promise<void>,
  setExitCode: (code: number) => void,
  requireCatalog: () => void,
): void {
  program
    .command('import <file>')
    .description(
      'import keys issued before Keyward from a CSV file (columns: organization,name,type,token|sha256,' +
        'scopes,expiresAt,disabled); re-running skips what is there; exit 1 when a row is refused',
    )
    .option('--org <id>', 'the organization of rows without an organization column value')
    .option('--quiet', 'no progress bar')
    .option('--json', 'print the report as JSON on stdout')
    .action(async (file: string, options: { org?: string; quiet?: boolean; json?: boolean }) => {
      requireCatalog();
      await withSession(async ({ keyward }) => {
        const report = await importCsv(keyward, file, options.org, io, { progress: !options.quiet });
        const say = (line: string) => io.stderr(`${line}\n`);
        if (options.json) io.stdout(`${JSON.stringify(report, null, 2)}\n`);
        else {
          for (const { line, problems } of report.refused.slice(0, MAX_LISTED)) {
            say(`line ${line}: refused: ${problems.join('; ')}`);
          }
          if (report.refused.length > MAX_LISTED)
            say(`… and ${report.refused.length - MAX_LISTED} more refused rows`);
          const disabled = report.disabled > 0 ? ` (${report.disabled} of them disabled)` : '';
          say(
            `Imported ${report.imported} keys${disabled}; ${report.existing} were there already; ` +
              `${report.refused.length} refused.`,
          );
        }
        if (report.refused.length > 0) setExitCode(EXIT.refused);
      });
    });
}
