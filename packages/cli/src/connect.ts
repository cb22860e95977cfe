import { createKeyward, type KeyStore, type Keyward } from '@keyward/core';
import { proxyStore } from '@keyward/core/store';
import { MongoKeyStore } from '@keyward/mongo';
import mongoose from 'mongoose';
import { CliError, EXIT } from './exit-codes.js';
import { redactUrl, type Settings } from './settings.js';

/** An open connection with the Keyward service on it; `close()` releases everything. */
export interface Session {
  keyward: Keyward;
  close(): Promise<void>;
}

// The CLI's lookups are not uses of a key: without recordUsage the service records no lastUsedAt, and
// without rehash a lookup changes nothing. Without countKeys the per-organization key cap, an app-side
// limit, does not apply to an operator's bulk import. Every other call (audit events included) goes
// through with all its arguments.
function withoutUsage(store: MongoKeyStore): KeyStore {
  return proxyStore(store, {
    overrides: { recordUsage: undefined, rehash: undefined, countKeys: undefined },
  });
}

/**
 * Connects to `MONGO_URL` (giving up after `timeoutMs`, with a message that says so) and builds the service
 * with the app's pepper, catalog and prefix. No verify cache: every command reads the database.
 */
export async function openSession(settings: Settings): Promise<Session> {
  const connection = mongoose.createConnection(settings.mongoUrl, {
    serverSelectionTimeoutMS: settings.timeoutMs,
  });
  try {
    await connection.asPromise();
  } catch (error) {
    await connection.close().catch(() => {});
    const reason = error instanceof Error ? error.message : String(error);
    throw new CliError(
      `Cannot connect to MONGO_URL=${redactUrl(settings.mongoUrl)} within ${settings.timeoutMs / 1000} s ` +
        `(serverSelectionTimeoutMS; --timeout changes it): ${reason}`,
      EXIT.usage,
    );
  }
  const store = new MongoKeyStore({ connection, timeoutMs: settings.timeoutMs });
  let keyward: Keyward;
  try {
    keyward = createKeyward({
      store: withoutUsage(store),
      pepper: [settings.pepper, ...settings.previousPeppers],
      ...(settings.legacyPattern ? { legacyTokens: { pattern: settings.legacyPattern } } : {}),
      scopes: settings.scopes,
      publicScopes: settings.publicScopes,
      ...(settings.prefix ? { prefix: settings.prefix } : {}),
      // Only the names matter here (keys and organizations name a plan; the app enforces its limits).
      plans: Object.fromEntries(settings.plans.map((name) => [name, { limits: [] }])),
      cache: false,
    });
  } catch (error) {
    await store.close().catch(() => {});
    await connection.close().catch(() => {});
    throw new CliError(error instanceof Error ? error.message : String(error), EXIT.usage);
  }
  return {
    keyward,
    async close() {
      await keyward.close();
      await store.close();
      await connection.close();
    },
  };
}
