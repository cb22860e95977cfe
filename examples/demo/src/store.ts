import { type KeyStore, MemoryKeyStore } from '@keyward/core';
import { startMemoryServer } from '@keyward/embedded-mongo';
import { MongoKeyStore } from '@keyward/mongo';
import type { Store as SessionStore } from 'express-session';
import { redactConnectionString } from 'mongodb-connection-string-url';
import mongoose from 'mongoose';
import { mongoSessionStore } from './sessions.js';

/** Where the demo keeps its keys. */
export interface DemoStore {
  store: KeyStore;
  /** Where sessions are kept: the same MongoDB (connect-mongo); `undefined` on the memory store. */
  sessionStore?: SessionStore;
  /** Where keys are kept, for the start-up line, e.g. "an embedded MongoDB (mongodb-memory-server)". */
  description: string;
  /** Stops the change feed, closes the connection and stops the embedded server. */
  close(): Promise<void>;
}

/** A MongoDB server the demo started. */
export interface EmbeddedMongo {
  uri: string;
  stop(): Promise<void>;
}

/** Starts mongod through mongodb-memory-server, failing fast when no binary can be had. */
async function startEmbeddedMongo(notice: (line: string) => void): Promise<EmbeddedMongo> {
  const server = await startMemoryServer({ notice: (line) => notice(`[demo] ${line}`) });
  return { uri: server.getUri('keyward_demo'), stop: async () => void (await server.stop()) };
}

/** Options of {@link openDemoStore}. */
export interface OpenDemoStoreOptions {
  /** A MongoDB (or FerretDB) URL; when set it is used and nothing else. @default process.env.MONGO_URL */
  mongoUrl?: string;
  /** Starts the embedded MongoDB. @default startEmbeddedMongo (mongodb-memory-server, fast-failing) */
  startEmbedded?: (notice: (line: string) => void) => Promise<EmbeddedMongo>;
  /** Hears one line when the demo falls back to memory, or downloads MongoDB. @default console.error */
  notice?: (line: string) => void;
}

/**
 * Opens the demo's key store: `MONGO_URL` if set (failing if it cannot be reached), else an embedded
 * mongodb-memory-server, else (no MongoDB binary can be had, e.g. offline) the in-memory store, saying
 * so in one line.
 *
 * @example
 * const { store, description, close } = await openDemoStore();
 */
export async function openDemoStore(options: OpenDemoStoreOptions = {}): Promise<DemoStore> {
  const { mongoUrl = process.env.MONGO_URL?.trim(), startEmbedded = startEmbeddedMongo } = options;
  const notice = options.notice ?? ((line: string) => console.error(line));
  if (mongoUrl) return openMongo(mongoUrl, `MongoDB at ${redactConnectionString(mongoUrl)}`, async () => {});
  let embedded: EmbeddedMongo;
  try {
    embedded = await startEmbedded(notice);
  } catch (error) {
    notice(
      `[demo] no MongoDB binary could be had (${firstLine(error)}): keys are kept in memory and are lost when ` +
        'the demo stops. Set MONGO_URL to use a MongoDB server.',
    );
    return { store: new MemoryKeyStore(), description: 'memory (no MongoDB)', close: async () => {} };
  }
  try {
    return await openMongo(embedded.uri, 'an embedded MongoDB (mongodb-memory-server)', embedded.stop);
  } catch (error) {
    await embedded.stop();
    throw error;
  }
}

async function openMongo(uri: string, description: string, stop: () => Promise<void>): Promise<DemoStore> {
  let connection: mongoose.Connection;
  try {
    connection = await mongoose.createConnection(uri, { serverSelectionTimeoutMS: 5_000 }).asPromise();
  } catch (error) {
    throw new Error(`Cannot connect to ${redactConnectionString(uri)}: ${firstLine(error)}`, {
      cause: error,
    });
  }
  const store = new MongoKeyStore({ connection });
  await store.ensureIndexes();
  // Sessions on a client of their own, never the key store's connection.
  const sessionStore = mongoSessionStore(uri, connection.name);
  return {
    store,
    sessionStore,
    description,
    close: async () => {
      await store.close();
      await sessionStore.close();
      await connection.close();
      await stop();
    },
  };
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]?.trim() || 'unknown error';
}
