export type { ChangeFeedMode } from './change-feed.js';
export { MongoKeyStore, type MongoKeyStoreOptions } from './mongo-store.js';
