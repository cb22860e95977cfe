import type { VerifiedKey } from '@keyward/core';

/**
 * What `req.apiKey` is set through. Express replaces the prototype of every request object with its app's
 * `app.request`, after which V8 gives each request a hidden class of its own, so adding an own property
 * to it costs µs rather than tenths (bench/src/req-property.ts). Express documents `app.request` as the
 * place to extend an app's requests (its "Overriding the Express API" guide; mounted apps inherit it), so on
 * a request of an Express app `apiKey` is an accessor defined there once, on the outermost app's
 * `app.request`, that keeps each request's key in a `WeakMap`: about half the cost. Anywhere else (a plain
 * `IncomingMessage`, another framework's request, an app whose request prototype already has an `apiKey`
 * of its own) it is an own property. Reading and assigning `req.apiKey` work the same either way;
 * docs/reference.md §2 says what reflection sees.
 */
interface RequestKeys {
  /** Each request's key, for the accessor. */
  readonly keys: WeakMap<object, VerifiedKey>;
  /** The accessor, one object, so a descriptor found on a prototype can be recognized as Keyward's. */
  readonly get: (this: object) => VerifiedKey | undefined;
  readonly set: (this: object, key: VerifiedKey | undefined) => void;
  /** Per request prototype already looked at: its own prototype then (a mount can change it later). */
  readonly seen: WeakMap<object, Seen>;
}

interface Seen {
  readonly parent: object | null;
  /** Whether `apiKey` is Keyward's accessor on this prototype's chain. */
  readonly accessor: boolean;
}

// Shared through `Symbol.for` and `globalThis`: the ESM and CJS builds of this package keep one accessor.
const SHARED = Symbol.for('keyward.express.requestKeys');
const shared = globalThis as { [SHARED]?: RequestKeys };
const keys = new WeakMap<object, VerifiedKey>();
const requestKeys: RequestKeys = shared[SHARED] ?? {
  keys,
  get(this: object) {
    return keys.get(this);
  },
  set(this: object, key: VerifiedKey | undefined) {
    if (key === undefined) keys.delete(this);
    else keys.set(this, key);
  },
  seen: new WeakMap(),
};
shared[SHARED] = requestKeys;

/**
 * Sets (or, with `undefined`, clears) `req.apiKey`.
 *
 * @example
 * setRequestKey(req, key); // req.apiKey === key
 * setRequestKey(req, undefined); // req.apiKey === undefined
 */
export function setRequestKey(req: { apiKey?: VerifiedKey }, key: VerifiedKey | undefined): void {
  const prototype: object | null = Object.getPrototypeOf(req);
  if (prototype === null) {
    req.apiKey = key;
    return;
  }
  let seen = requestKeys.seen.get(prototype);
  if (seen === undefined || seen.parent !== Object.getPrototypeOf(prototype)) seen = defineOnApp(prototype);
  // The accessor's own store, without the property assignment (which V8 cannot cache on these requests);
  // an own `apiKey` (defined on the request itself) shadows the accessor and is assigned instead.
  if (!seen.accessor || Object.hasOwn(req, 'apiKey')) req.apiKey = key;
  else if (key === undefined) requestKeys.keys.delete(req);
  else requestKeys.keys.set(req, key);
}

/**
 * Defines the accessor on the outermost Express app's `app.request` above `prototype`, when `prototype`
 * is one (Express gives every app's `request` an own `app`; a mounted app's inherits its parent's), and
 * no `apiKey` of someone else's is on the way. Remembers the prototype as looked at either way.
 */
function defineOnApp(prototype: object): Seen {
  const seen = { parent: Object.getPrototypeOf(prototype), accessor: defineAbove(prototype) };
  requestKeys.seen.set(prototype, seen);
  return seen;
}

function defineAbove(prototype: object): boolean {
  if (!Object.hasOwn(prototype, 'app')) return false;
  let outermost = prototype;
  for (let up = Object.getPrototypeOf(prototype); up !== null && Object.hasOwn(up, 'app'); ) {
    outermost = up;
    up = Object.getPrototypeOf(up);
  }
  for (let at: object | null = prototype; at !== null; at = Object.getPrototypeOf(at)) {
    const existing = Object.getOwnPropertyDescriptor(at, 'apiKey');
    if (existing !== undefined && existing.get !== requestKeys.get) return false;
  }
  if (Object.getOwnPropertyDescriptor(outermost, 'apiKey') === undefined) {
    Object.defineProperty(outermost, 'apiKey', {
      configurable: true,
      enumerable: false,
      get: requestKeys.get,
      set: requestKeys.set,
    });
  }
  return true;
}
