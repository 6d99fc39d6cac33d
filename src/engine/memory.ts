/**
 * The in-memory store: memcached's semantics in a `Map`, with the time of each operation given by the caller (epoch
 * milliseconds), so a test clock can expire keys. It keeps whole-second expiry like memcached, copies bytes in and
 * out like a wire would, and never evicts (it has no memory limit).
 *
 * @internal
 */
import { nextCounterValue, U64_MAX } from "./counter.js"
import { EngineFailure } from "./failure.js"
import type { WriteMode } from "./item.js"
import { CasItem, Item } from "./item.js"
import { maxValueBytes } from "./itemSize.js"
import type { WireKey } from "./keys.js"
import { describeStatus, Status } from "./protocol.js"
import type { Expiry } from "./ttl.js"
import { expiresAtMillis } from "./ttl.js"

class Entry {
  constructor(
    readonly value: Buffer,
    readonly flags: number,
    public expiresAt: number | undefined,
    /** Changes on every write, as memcached's CAS token does. */
    readonly cas: bigint
  ) {}
}

const VERSION = "effect-memcached in-memory store"

/** @internal memcached's operations on checked keys, each at `now` (epoch ms). */
export interface MemoryStore {
  readonly maxItemSize: number
  /** The key's item, or `undefined` for a miss. */
  readonly get: (key: WireKey, now: number) => Item | undefined
  /** The key's item with its CAS token, or `undefined` for a miss. */
  readonly getWithCas: (key: WireKey, now: number) => CasItem | undefined
  /** Each key's item, or `undefined` for a miss, in the order of `keys`. */
  readonly getMany: (keys: ReadonlyArray<WireKey>, now: number) => Array<Item | undefined>
  /** `false` when `add` found the key, `replace` did not, or `cas` no longer matches the item. */
  readonly write: (mode: WriteMode, key: WireKey, item: Item, expiry: Expiry, now: number, cas?: bigint) => boolean
  /** `false` when the key is missing, or the result would not fit (memcached then keeps the value). */
  readonly concat: (side: "append" | "prepend", key: WireKey, value: Uint8Array, now: number) => boolean
  /** Sets many items. */
  readonly writeMany: (entries: ReadonlyArray<readonly [WireKey, Item]>, expiry: Expiry, now: number) => void
  /** `false` when the key did not exist. */
  readonly delete: (key: WireKey, now: number) => boolean
  /** How many of the keys existed. */
  readonly deleteMany: (keys: ReadonlyArray<WireKey>, now: number) => number
  /** `false` when the key did not exist. */
  readonly touch: (key: WireKey, expiry: Expiry, now: number) => boolean
  /** The key's item as it was, or `undefined` for a miss, and a new expiry for it. */
  readonly getAndTouch: (key: WireKey, expiry: Expiry, now: number) => Item | undefined
  /**
   * The counter's new value (wrapping at 2^64 up, stopping at 0 down); `undefined`: the key is missing and `initial`
   * was not given; a value that is not a decimal counter fails as memcached answers.
   */
  readonly counter: (
    direction: "increment" | "decrement",
    key: WireKey,
    delta: bigint,
    initial: bigint | undefined,
    expiry: Expiry,
    now: number
  ) => bigint | undefined | EngineFailure
  readonly flush: () => void
  /** Statistics, as a single server `"memory"` would give them. */
  readonly stats: () => ReadonlyMap<string, Readonly<Record<string, string>>>
  readonly version: ReadonlyMap<string, string>
}

/** @internal An empty in-memory store whose items are at most `maxItemSize` bytes, key and overhead included. */
export const makeMemoryStore = (maxItemSize: number): MemoryStore => {
  const entries = new Map<string, Entry>()
  let lastCas = 0n

  const live = (key: WireKey, now: number): Entry | undefined => {
    const entry = entries.get(key.text)
    if (entry === undefined) return undefined
    if (entry.expiresAt !== undefined && entry.expiresAt <= now) {
      entries.delete(key.text)
      return undefined
    }
    return entry
  }

  const copyOut = (entry: Entry | undefined): Item | undefined =>
    entry === undefined ? undefined : new Item(Buffer.from(entry.value), entry.flags)

  /** Keeps `value` (not copied) as the key's item; a new CAS token. */
  const put = (key: WireKey, value: Buffer, flags: number, expiresAt: number | undefined) => {
    entries.set(key.text, new Entry(value, flags, expiresAt, ++lastCas))
  }

  /** Keeps a copy of `item`'s bytes as the key's item. */
  const putItem = (key: WireKey, item: Item, expiry: Expiry, now: number) =>
    put(key, Buffer.from(item.value), item.flags >>> 0, expiresAtMillis(expiry, now))

  return {
    maxItemSize,
    get: (key, now) => copyOut(live(key, now)),
    getWithCas: (key, now) => {
      const entry = live(key, now)
      return entry && new CasItem(Buffer.from(entry.value), entry.flags, entry.cas)
    },
    getMany: (keys, now) => keys.map((key) => copyOut(live(key, now))),
    write: (mode, key, item, expiry, now, cas) => {
      const entry = live(key, now)
      if ((mode === "add" && entry) || (mode === "replace" && !entry)) return false
      if (cas !== undefined && entry?.cas !== cas) return false
      putItem(key, item, expiry, now)
      return true
    },
    concat: (side, key, value, now) => {
      const entry = live(key, now)
      if (!entry) return false
      const bytes = Buffer.from(value)
      const joined = side === "append" ? Buffer.concat([entry.value, bytes]) : Buffer.concat([bytes, entry.value])
      // memcached answers "not stored" when the result would not fit, and keeps the value
      if (joined.length > maxValueBytes(maxItemSize, key.size)) return false
      put(key, joined, entry.flags, entry.expiresAt)
      return true
    },
    writeMany: (items, expiry, now) => {
      for (const [key, item] of items) putItem(key, item, expiry, now)
    },
    delete: (key, now) => live(key, now) !== undefined && entries.delete(key.text),
    deleteMany: (keys, now) => keys.filter((key) => live(key, now) !== undefined && entries.delete(key.text)).length,
    touch: (key, expiry, now) => {
      const entry = live(key, now)
      if (entry) entry.expiresAt = expiresAtMillis(expiry, now)
      return entry !== undefined
    },
    getAndTouch: (key, expiry, now) => {
      const entry = live(key, now)
      if (!entry) return undefined
      const item = copyOut(entry)
      entry.expiresAt = expiresAtMillis(expiry, now)
      return item
    },
    counter: (direction, key, delta, initial, expiry, now) => {
      const entry = live(key, now)
      if (!entry) {
        if (initial === undefined) return undefined
        put(key, Buffer.from(initial.toString()), 0, expiresAtMillis(expiry, now))
        return initial
      }
      const text = entry.value.toString("latin1")
      if (!/^\d{1,20}$/.test(text) || BigInt(text) > U64_MAX) {
        return new EngineFailure(
          "Protocol",
          undefined,
          `${describeStatus(Status.NonNumeric)} (key ${JSON.stringify(key.key)})`
        )
      }
      const current = BigInt(text)
      const next = nextCounterValue(direction, current, delta)
      put(key, Buffer.from(next.toString()), entry.flags, entry.expiresAt)
      return next
    },
    flush: () => entries.clear(),
    stats: () => new Map([["memory", { curr_items: String(entries.size), version: VERSION }]]),
    version: new Map([["memory", VERSION]])
  }
}
