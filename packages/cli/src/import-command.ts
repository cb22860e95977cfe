import { createReadStream, statSync } from 'node:fs';
import type { ImportKeyInput, ImportResult, Keyward } from '@keyward/core';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { parse } from 'csv-parse';
import { CliError, EXIT } from './exit-codes.js';

/** Rows sent to `importKeys` at a time. */
const BATCH_SIZE = 1_000;
/** Refused rows listed one by one on stderr; the rest are counted. */
const MAX_LISTED = 100;

/** The CSV columns `keyward import` reads; the header names them, in any order. */
export const IMPORT_COLUMNS = ['name', 'type', 'token', 'sha256', 'scopes', 'expiresAt'] as const;

/** What one run of `keyward import` did. */
export interface ImportReport {
  imported: number;
  /** Rows whose token was imported before (a re-run, or the same token twice): skipped. */
  existing: number;
  refused: Array<{ line: number; problems: string[] }>;
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
 * Reads `file` (CSV with a header row of `IMPORT_COLUMNS`) and imports every row into `organizationId`,
 * `BATCH_SIZE` rows per `importKeys` call. Rows whose token is there already count as `existing`, so a
 * re-run after an interruption imports only the rest. Refused rows are reported with their line numbers.
 * A file that is not CSV, or a header without `name`, `type` and `token` or `sha256`, throws `CliError`
 * (exit 2); values are never echoed (they may be tokens).
 *
 * @example
 * const report = await importCsv(keyward, 'keys.csv', 'org_1', io, { progress: true });
 */
export async function importCsv(
  keyward: Keyward,
  file: string,
  organizationId: string,
  io: ImportIo,
  options: { progress: boolean },
): Promise<ImportReport> {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    throw new CliError(`Cannot read ${file}.`, EXIT.usage);
  }
  const report: ImportReport = { imported: 0, existing: 0, refused: [] };
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
      columns: (header: string[]) => checkHeader(header),
      skip_empty_lines: true,
      trim: true,
      info: true,
    }),
  );
  let batch: Array<{ line: number; input: ImportKeyInput }> = [];
  let bytes = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const results = await keyward.importKeys(
      organizationId,
      batch.map((row) => row.input),
    );
    results.forEach((result, i) => {
      count(report, result, batch[i]?.line ?? 0);
    });
    batch = [];
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
      batch.push({ line: info.lines, input: toInput(record) });
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
  return report;
}

function count(report: ImportReport, result: ImportResult, line: number): void {
  if (result.status === 'imported') report.imported++;
  else if (result.status === 'exists') report.existing++;
  else {
    const problems = result.error.details?.map((d) => `${d.path || '(row)'}: ${d.message}`) ?? [
      result.error.message,
    ];
    report.refused.push({ line, problems });
  }
}

function checkHeader(header: string[]): string[] {
  const unknown = header.filter((column) => !(IMPORT_COLUMNS as readonly string[]).includes(column));
  const missing = ['name', 'type'].filter((column) => !header.includes(column));
  if (unknown.length > 0 || missing.length > 0 || !(header.includes('token') || header.includes('sha256'))) {
    throw new CliError(
      `The header must name the columns ${IMPORT_COLUMNS.join(', ')} (name, type and token or sha256 ` +
        `required)${unknown.length > 0 ? `; unknown: ${unknown.map((c) => c.slice(0, 40)).join(', ')}` : ''}.`,
      EXIT.usage,
    );
  }
  return header;
}

/** A CSV row as `importKey` input: empty cells are absent; scopes are separated by spaces or commas. */
function toInput(record: Record<string, string>): ImportKeyInput {
  const input: Record<string, unknown> = { name: record.name ?? '', type: record.type ?? '' };
  if (record.token) input.token = record.token;
  if (record.sha256) input.sha256 = record.sha256;
  if (record.scopes) input.scopes = record.scopes.split(/[\s,]+/).filter(Boolean);
  if (record.expiresAt) input.expiresAt = record.expiresAt;
  return input as ImportKeyInput;
}

/**
 * Adds `import FILE.csv --org ID` to `program`. `open` gives the service (and closes it after `use`).
 *
 * @example
 * registerImport(program, io, withSession, (code) => { exitCode = code; });
 */
export function registerImport(
  program: Command,
  io: ImportIo & { stdout: (text: string) => void },
  withSession: (use: (session: { keyward: Keyward }) => Promise<void>) => Promise<void>,
  setExitCode: (code: number) => void,
): void {
  program
    .command('import <file>')
    .description(
      'import keys issued before Keyward from a CSV file (columns: name,type,token|sha256,scopes,expiresAt); ' +
        're-running skips what is there; exit 1 when a row is refused',
    )
    .requiredOption('--org <id>', 'the organization id')
    .option('--quiet', 'no progress bar')
    .option('--json', 'print the report as JSON on stdout')
    .action(async (file: string, options: { org: string; quiet?: boolean; json?: boolean }) => {
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
          say(
            `Imported ${report.imported} keys into ${options.org}; ${report.existing} were there already; ` +
              `${report.refused.length} refused.`,
          );
        }
        if (report.refused.length > 0) setExitCode(EXIT.refused);
      });
    });
}
