// passport-headerapikey ships declarations that import `passport-strategy` and `express` types which are
// not installed here; this small local declaration describes exactly what Keyward uses. An ambient module
// declaration takes precedence over the package's own `types`.
declare module 'passport-headerapikey' {
  import type { IncomingMessage } from 'node:http';

  type Verified = (err: Error | null, user?: object | false, info?: object) => void;

  /** The strategy of passport-headerapikey (extends passport-strategy's `Strategy`). */
  export class HeaderAPIKeyStrategy {
    constructor(
      header: { header: string; prefix: string },
      passReqToCallback: boolean,
      verify: (apiKey: string, verified: Verified, req?: IncomingMessage) => void,
    );
    name: string;
    apiKeyHeader: { header: string; prefix: string };
    passReqToCallback: boolean;
    verify: (apiKey: string, verified: Verified, req?: IncomingMessage) => void;
    authenticate(req: IncomingMessage, options?: object): void;

    // Action functions Passport attaches to the per-request strategy object (passport-strategy).
    success(user: object, info?: object): void;
    fail(challenge?: unknown, status?: number): void;
    redirect(url: string, status?: number): void;
    pass(): void;
    error(err: Error): void;
  }
}
