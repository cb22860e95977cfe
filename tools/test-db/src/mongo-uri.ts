// MongoDB connection strings may list several hosts (`h1:1,h2:2`), which WHATWG `URL` cannot parse,
// so they are split by hand: scheme + authority, optional database path, optional query.
const CONNECTION_STRING = /^(mongodb(?:\+srv)?:\/\/[^/?]+)(?:\/([^?]*))?(?:\?(.*))?$/i;

// What MongoDB forbids in a database name on any platform, plus a NUL byte.
const FORBIDDEN_IN_NAME = /[/\\. "$\0]/;

interface ParsedUri {
  authority: string;
  database: string;
  query: string;
}

function parse(uri: string): ParsedUri {
  const match = CONNECTION_STRING.exec(uri.trim());
  if (!match?.[1]) {
    throw new TypeError('Not a mongodb:// or mongodb+srv:// connection string');
  }
  return { authority: match[1], database: decodeURIComponent(match[2] ?? ''), query: match[3] ?? '' };
}

function format(authority: string, database: string, query: string): string {
  return `${authority}/${database ? encodeURIComponent(database) : ''}${query ? `?${query}` : ''}`;
}

/**
 * The server part of a connection string: its database name removed, its query kept. When the string has
 * credentials and a database but no `authSource`, that database was the authentication database, so it
 * becomes `authSource` to keep authentication working.
 * @example
 * toServerUri('mongodb://u:p@h1,h2/app?replicaSet=rs'); // 'mongodb://u:p@h1,h2/?replicaSet=rs&authSource=app'
 */
export function toServerUri(uri: string): string {
  const { authority, database, query } = parse(uri);
  const hasCredentials = authority.includes('@');
  const hasAuthSource = [...new URLSearchParams(query).keys()].some(
    (key) => key.toLowerCase() === 'authsource',
  );
  if (database && hasCredentials && !hasAuthSource) {
    const authSource = `authSource=${encodeURIComponent(database)}`;
    return format(authority, '', query ? `${query}&${authSource}` : authSource);
  }
  return format(authority, '', query);
}

/**
 * `serverUri` with `dbName` as its database, query parameters kept.
 * @throws {TypeError} when `dbName` is not a valid MongoDB database name
 * @example
 * withDatabase('mongodb://127.0.0.1:27017/?replicaSet=rs', 'kw_a'); // 'mongodb://127.0.0.1:27017/kw_a?replicaSet=rs'
 */
export function withDatabase(serverUri: string, dbName: string): string {
  if (typeof dbName !== 'string' || dbName.length === 0 || Buffer.byteLength(dbName) >= 64) {
    throw new TypeError('A database name must be 1 to 63 bytes long');
  }
  if (FORBIDDEN_IN_NAME.test(dbName)) {
    throw new TypeError(
      `Database name ${JSON.stringify(dbName)} contains a character MongoDB forbids (/\\. "$)`,
    );
  }
  const { authority, query } = parse(serverUri);
  return format(authority, dbName, query);
}
