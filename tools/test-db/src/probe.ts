import { MongoClient } from 'mongodb';

/** What {@link probeServer} finds out about a server. */
export interface ServerTraits {
  isFerretDB: boolean;
  isReplicaSet: boolean;
}

/**
 * Connects to `uri` and asks the server what it is: FerretDB answers `buildInfo` with a `ferretdbVersion`,
 * a replica set member answers `hello` with a `setName`.
 * @example
 * const { isFerretDB } = await probeServer('mongodb://127.0.0.1:27017/');
 */
export async function probeServer(uri: string, timeoutMS = 10_000): Promise<ServerTraits> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: timeoutMS, connectTimeoutMS: timeoutMS });
  try {
    const admin = client.db('admin');
    const buildInfo = await admin.command({ buildInfo: 1 });
    const hello = await admin.command({ hello: 1 });
    return {
      isFerretDB: typeof buildInfo.ferretdbVersion === 'string',
      isReplicaSet: typeof hello.setName === 'string',
    };
  } finally {
    await client.close();
  }
}
