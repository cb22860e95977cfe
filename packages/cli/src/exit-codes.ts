/** The process exit codes of `keyward`. */
export const EXIT = {
  /** The command did what was asked. */
  ok: 0,
  /** Keyward refused: an invalid token, an unknown key, input that fails validation. */
  refused: 1,
  /** A usage error (unknown command or option, missing setting) or the database cannot be reached. */
  usage: 2,
} as const;

/** A failure that ends the command with `exitCode` and one message on stderr. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}
