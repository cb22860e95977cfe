/** Writes one `[test-db]` line to stderr: the only output of this package. */
export function note(message: string): void {
  process.stderr.write(`[test-db] ${message}\n`);
}
