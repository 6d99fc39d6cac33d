/**
 * What a store must do once keys are checked and TTLs normalised: the line between the shared rules (in
 * `Memcached.ts`) and the two stores that sit under them, real memcached and the in-memory fake.
 *
 * @internal
 */
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type { MemcachedError } from "../errors/MemcachedError.js"
import type { ValueTooLarge } from "../errors/ValueTooLarge.js"
import type { WireKey } from "./keys.js"
import type { Expiry } from "./ttl.js"

/** @internal A stored value with its memcached flags. */
export interface StoredItem {
  readonly value: Uint8Array
  readonly flags: number
}

/** @internal A stored value with the CAS token memcached gave its current version. */
export interface CasItem extends StoredItem {
  readonly cas: bigint
}

/** @internal */
export type StoreMode = "set" | "add" | "replace"

/** @internal */
export interface Store {
  readonly get: (key: WireKey) => Effect.Effect<Option.Option<StoredItem>, MemcachedError>
  /** Each key's item, or `undefined` for a miss, in the order of `keys`. */
  readonly getMany: (
    keys: ReadonlyArray<WireKey>
  ) => Effect.Effect<ReadonlyArray<StoredItem | undefined>, MemcachedError>
  /** `false` when `add` found the key, `replace` did not, or `cas` no longer matches the item. */
  readonly store: (
    mode: StoreMode,
    key: WireKey,
    item: StoredItem,
    expiry: Expiry,
    cas?: bigint
  ) => Effect.Effect<boolean, MemcachedError | ValueTooLarge>
  /** The item and its CAS token. */
  readonly getWithCas: (key: WireKey) => Effect.Effect<Option.Option<CasItem>, MemcachedError>
  /** Adds bytes after (`append`) or before (`prepend`) an existing value; `false` if the key is missing. */
  readonly concat: (
    side: "append" | "prepend",
    key: WireKey,
    value: Uint8Array
  ) => Effect.Effect<boolean, MemcachedError | ValueTooLarge>
  /** Each server's statistics, by `host:port`. */
  readonly stats: Effect.Effect<ReadonlyMap<string, Readonly<Record<string, string>>>, MemcachedError>
  readonly storeMany: (
    entries: ReadonlyArray<readonly [WireKey, StoredItem]>,
    expiry: Expiry
  ) => Effect.Effect<void, MemcachedError | ValueTooLarge>
  readonly delete: (key: WireKey) => Effect.Effect<boolean, MemcachedError>
  /** How many of the keys existed. */
  readonly deleteMany: (keys: ReadonlyArray<WireKey>) => Effect.Effect<number, MemcachedError>
  readonly touch: (key: WireKey, expiry: Expiry) => Effect.Effect<boolean, MemcachedError>
  readonly getAndTouch: (key: WireKey, expiry: Expiry) => Effect.Effect<Option.Option<StoredItem>, MemcachedError>
  /** `undefined`: the key is missing and `initial` was not given. */
  readonly counter: (
    direction: "increment" | "decrement",
    key: WireKey,
    delta: bigint,
    initial: bigint | undefined,
    expiry: Expiry
  ) => Effect.Effect<bigint | undefined, MemcachedError>
  readonly flush: Effect.Effect<void, MemcachedError>
  /** Each server's version, by `host:port`. */
  readonly version: Effect.Effect<ReadonlyMap<string, string>, MemcachedError>
  /** The largest item the servers accept, key and overhead included. */
  readonly maxItemSize: number
}
