/**
 * The shape of the bytes-level `Memcached` service, with the options of its operations: below the layers that build
 * it (`checkedService.ts`) and the views over it (namespaces), so none of them names `Memcached.ts`. `Memcached`
 * re-exports these types. Shared by both Effect lines: what differs between them comes from `#effect-line`.
 *
 * @internal
 */
import type { Effect, InvalidArgument, InvalidKey, MemcachedError, Option, Ttl, ValueTooLarge } from "#effect-line"
import type { CasItem, Item, LeaseAnswer } from "../engine/item.js"

/**
 * Per-write options. `ttl` left out means the layer's `defaultTtl`.
 */
export interface WriteOptions {
  readonly ttl?: Ttl | undefined
  /** memcached's item flags. @default 0 */
  readonly flags?: number | undefined
}

/** @internal The options of one write, made per write: a class (see `engine/item.ts` on why). */
export class WriteRecord implements WriteOptions {
  constructor(readonly flags: number, readonly ttl: Ttl | undefined) {}
}

/**
 * Options of `increment` and `decrement`.
 */
export interface CounterOptions {
  /** Create a missing key with this value (the delta is not applied then); left out, a missing key stays missing. */
  readonly initial?: bigint | number | undefined
  /** The TTL of a key created from `initial`. */
  readonly ttl?: Ttl | undefined
}

/**
 * memcached's own operations on bytes, with the key, TTL and size rules applied before anything is sent.
 */
export interface MemcachedService {
  /** Reads one key; a miss or an expired item is `Option.none()`. */
  readonly get: (key: string) => Effect.Effect<Option.Option<Item>, InvalidKey | MemcachedError>
  /** Reads many keys in one pipelined batch per server; the map holds hits only. */
  readonly getMany: (keys: Iterable<string>) => Effect.Effect<ReadonlyMap<string, Item>, InvalidKey | MemcachedError>
  /** Stores a value. */
  readonly set: (
    key: string,
    value: Uint8Array,
    options?: WriteOptions
  ) => Effect.Effect<void, InvalidKey | InvalidArgument | ValueTooLarge | MemcachedError>
  /** Stores many values in one pipelined batch per server. */
  readonly setMany: (
    entries: Iterable<readonly [string, Item]>,
    options?: { readonly ttl?: Ttl | undefined }
  ) => Effect.Effect<void, InvalidKey | InvalidArgument | ValueTooLarge | MemcachedError>
  /** Stores only if the key is absent; `false` if it was there. */
  readonly add: (
    key: string,
    value: Uint8Array,
    options?: WriteOptions
  ) => Effect.Effect<boolean, InvalidKey | InvalidArgument | ValueTooLarge | MemcachedError>
  /** Stores only if the key is present; `false` if it was not. */
  readonly replace: (
    key: string,
    value: Uint8Array,
    options?: WriteOptions
  ) => Effect.Effect<boolean, InvalidKey | InvalidArgument | ValueTooLarge | MemcachedError>
  /** Deletes a key; `false` if it did not exist. */
  readonly delete: (key: string) => Effect.Effect<boolean, InvalidKey | MemcachedError>
  /** Deletes many keys in one pipelined batch per server; returns how many of the (distinct) keys existed. */
  readonly deleteMany: (keys: Iterable<string>) => Effect.Effect<number, InvalidKey | MemcachedError>
  /** Gives a key a new TTL from now; `false` if it did not exist. */
  readonly touch: (key: string, ttl?: Ttl) => Effect.Effect<boolean, InvalidKey | InvalidArgument | MemcachedError>
  /** Reads a key and gives it a new TTL from now, in one round trip (memcached's get-and-touch). */
  readonly getAndTouch: (
    key: string,
    ttl?: Ttl
  ) => Effect.Effect<Option.Option<Item>, InvalidKey | InvalidArgument | MemcachedError>
  /** Adds to a decimal counter (wrapping at 2^64), exact at any size; `none` if missing and no `initial`. */
  readonly increment: (
    key: string,
    delta?: bigint | number,
    options?: CounterOptions
  ) => Effect.Effect<Option.Option<bigint>, InvalidKey | InvalidArgument | MemcachedError>
  /** Subtracts from a decimal counter, stopping at 0; `none` if missing and no `initial`. */
  readonly decrement: (
    key: string,
    delta?: bigint | number,
    options?: CounterOptions
  ) => Effect.Effect<Option.Option<bigint>, InvalidKey | InvalidArgument | MemcachedError>
  /** Adds bytes after an existing value; `false` if the key is missing or the result would not fit. Never retried. */
  readonly append: (
    key: string,
    value: Uint8Array
  ) => Effect.Effect<boolean, InvalidKey | ValueTooLarge | MemcachedError>
  /**
   * Adds bytes before an existing value (memjs's own `prepend` appends); `false` if the key is missing or the result
   * would not fit. Never retried.
   */
  readonly prepend: (
    key: string,
    value: Uint8Array
  ) => Effect.Effect<boolean, InvalidKey | ValueTooLarge | MemcachedError>
  /** Reads a key with its CAS token (memcached's `gets`), for `compareAndSet`. */
  readonly getWithCas: (key: string) => Effect.Effect<Option.Option<CasItem>, InvalidKey | MemcachedError>
  /** Stores only if the item still has the CAS token `cas`; `false` if it changed or is gone. Never retried. */
  readonly compareAndSet: (
    key: string,
    value: Uint8Array,
    cas: bigint,
    options?: WriteOptions
  ) => Effect.Effect<boolean, InvalidKey | InvalidArgument | ValueTooLarge | MemcachedError>
  /**
   * Read-modify-write without lost updates: reads the item with its CAS token, stores `f(current)`, and starts over
   * when another writer got there first (up to `attempts` times, then fails with `MemcachedError` `Protocol`).
   * `f` gets `Option.none()` for a missing key, which is then created with `add`. Returns what was stored.
   */
  readonly update: (
    key: string,
    f: (current: Option.Option<Item>) => Item,
    options?: WriteOptions & { readonly attempts?: number | undefined }
  ) => Effect.Effect<Item, InvalidKey | InvalidArgument | ValueTooLarge | MemcachedError>
  /** Each server's statistics (memcached's `stats`), by `host:port`. */
  readonly stats: Effect.Effect<ReadonlyMap<string, Readonly<Record<string, string>>>, MemcachedError>
  /** Drops every item on every server (all keys, not only this prefix's). */
  readonly flush: Effect.Effect<void, MemcachedError>
  /** Asks every server for its version (keyed by `host:port`); fails if one does not answer. */
  readonly version: Effect.Effect<ReadonlyMap<string, string>, MemcachedError>
}

/**
 * The part of `MemcachedService` that a `Cache` reads and writes through: `Memcached` itself, or a namespace of it
 * (namespaces implement exactly this, so they nest). Public as `MemcachedView` of `Cache`.
 */
export type MemcachedView = Pick<
  MemcachedService,
  "get" | "getMany" | "set" | "setMany" | "add" | "delete" | "deleteMany" | "getAndTouch" | "increment"
>

/**
 * @internal The lease operations of a service over meta (see `engine/lease.ts`): a lease read (`getWithLease`), which
 * creates a placeholder living for `ttl` on a miss, and `invalidate`, which marks an item stale and hands its
 * recomputation to the next read. Traced and measured under these names, as the service's operations are.
 */
export interface ServerLease {
  readonly getWithLease: (
    key: string,
    ttl: Ttl
  ) => Effect.Effect<LeaseAnswer, InvalidKey | InvalidArgument | MemcachedError>
  readonly invalidate: (key: string) => Effect.Effect<boolean, InvalidKey | MemcachedError>
}

/**
 * @internal The lease operations of each service whose backend speaks meta, and of its namespaces; a service not
 * here (binary, the in-memory fake) leases with a key of its own.
 */
export const serverLeases = new WeakMap<object, ServerLease>()
