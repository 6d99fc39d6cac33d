/**
 * What a backend must do once keys are checked and TTLs normalised: the line between the shared rules
 * (`checkedService.ts`) and the two backends under them, real memcached (`memjsBackend.ts`, over the engine's client)
 * and the in-memory fake (`memoryBackend.ts`, over the engine's in-memory store). Items are the engine's `Item`.
 * Shared by both Effect lines: the Effect types come from `#effect-line`.
 *
 * @internal
 */
import type { Effect, MemcachedError, Option, ValueTooLarge } from "#effect-line"
import type { EngineClient } from "../engine/client.js"
import type { CasItem, Item, LeaseAnswer, WriteMode } from "../engine/item.js"
import type { WireKey } from "../engine/keys.js"
import type { Expiry } from "../engine/ttl.js"

/** @internal */
export interface Backend {
  readonly get: (key: WireKey) => Effect.Effect<Option.Option<Item>, MemcachedError>
  /** Each key's item, or `undefined` for a miss, in the order of `keys`. */
  readonly getMany: (
    keys: ReadonlyArray<WireKey>
  ) => Effect.Effect<ReadonlyArray<Item | undefined>, MemcachedError>
  /**
   * Writes one item as `mode` says; `false` when `add` found the key, `replace` did not, or `cas` no longer matches
   * the item.
   */
  readonly write: (
    mode: WriteMode,
    key: WireKey,
    item: Item,
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
  /** Sets many items, pipelined. */
  readonly writeMany: (
    entries: ReadonlyArray<readonly [WireKey, Item]>,
    expiry: Expiry
  ) => Effect.Effect<void, MemcachedError | ValueTooLarge>
  readonly delete: (key: WireKey) => Effect.Effect<boolean, MemcachedError>
  /** How many of the keys existed. */
  readonly deleteMany: (keys: ReadonlyArray<WireKey>) => Effect.Effect<number, MemcachedError>
  readonly touch: (key: WireKey, expiry: Expiry) => Effect.Effect<boolean, MemcachedError>
  readonly getAndTouch: (key: WireKey, expiry: Expiry) => Effect.Effect<Option.Option<Item>, MemcachedError>
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
  /** Meta only: a lease read, which creates a placeholder living for `expiry` on a miss (see `LeaseAnswer`). */
  readonly lease?: ((key: WireKey, expiry: Expiry) => Effect.Effect<LeaseAnswer, MemcachedError>) | undefined
  /** Meta only: marks the item stale instead of deleting it; `false` if it did not exist. */
  readonly invalidate?: ((key: WireKey) => Effect.Effect<boolean, MemcachedError>) | undefined
  /** The engine client under a real backend, for the calls made without an Effect (`checkedService.ts`). */
  readonly engine?: EngineClient | undefined
}

/** @internal The backend, and how its layer releases it. */
export interface MemjsBackend extends Backend {
  /**
   * Refuses new requests (they fail as `Unavailable`), lets in-flight ones settle for up to `graceMillis`, then, if
   * `destroy`, fails what is left and closes the sockets.
   */
  readonly close: (graceMillis: number, destroy: boolean) => Effect.Effect<void>
}
