export { MongoKeyStore, type MongoKeyStoreOptions } from './mongo-store.js';
export type { WriteFaults, WriteStep } from './write-path.js';
