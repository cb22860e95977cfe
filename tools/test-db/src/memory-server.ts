export { type MemoryServer, type MemoryServerOptions, startMemoryServer } from '@keyward/embedded-mongo';
