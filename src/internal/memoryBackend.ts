/**
 * The in-memory backend behind `Memcached.layerMemory`: memcached's semantics on the Effect `Clock`, so a `TestClock`
 * expires keys. It keeps whole-second expiry like memcached, copies bytes in and out like a wire would, and never
 * evicts (it has no memory limit).
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { MemcachedError } from "../errors/MemcachedError.js"
import type { Backend, Item } from "./backend.js"
import { nextCounterValue, U64_MAX } from "./counters.js"
import { maxValueBytes } from "./itemSize.js"
import type { WireKey } from "./keys.js"
import { describeStatus, Status } from "./protocol.js"
import { ItemRecord } from "./records.js"
import type { Expiry } from "./ttl.js"
import { expiresAtMillis } from "./ttl.js"

interface Entry {
  readonly value: Buffer
  readonly flags: number
  expiresAt: number | undefined
  /** Changes on every write, as memcached's CAS token does. */
  readonly cas: bigint
}

const nonNumeric = (key: WireKey) =>
  new MemcachedError({
    reason: "Protocol",
    detail: `${describeStatus(Status.NonNumeric)} (key ${JSON.stringify(key.key)})`
  })

/** @internal */
export const makeMemoryBackend = (maxItemSize: number): Backend => {
  const entries = new Map<string, Entry>()
  let lastCas = 0n
  const nextCas = () => ++lastCas

  const live = (key: WireKey, now: number): Entry | undefined => {
    const entry = entries.get(key.text)
    if (entry === undefined) return undefined
    if (entry.expiresAt !== undefined && entry.expiresAt <= now) {
      entries.delete(key.text)
      return undefined
    }
    return entry
  }

  const copyOut = (entry: Entry): Item => new ItemRecord(Buffer.from(entry.value), entry.flags)

  const write = (key: WireKey, item: Item, expiry: Expiry, now: number) => {
    entries.set(key.text, {
      value: Buffer.from(item.value),
      flags: item.flags >>> 0,
      expiresAt: expiresAtMillis(expiry, now),
      cas: nextCas()
    })
  }

  const withNow = <A>(f: (now: number) => A) => Effect.map(Clock.currentTimeMillis, f)

  return {
    maxItemSize,
    get: (key) =>
      withNow((now) => {
        const entry = live(key, now)
        return entry ? Option.some(copyOut(entry)) : Option.none()
      }),
    getMany: (keys) =>
      withNow((now) =>
        keys.map((key) => {
          const entry = live(key, now)
          return entry ? copyOut(entry) : undefined
        })
      ),
    store: (mode, key, item, expiry, cas) =>
      withNow((now) => {
        const entry = live(key, now)
        if ((mode === "add" && entry) || (mode === "replace" && !entry)) return false
        if (cas !== undefined && entry?.cas !== cas) return false
        write(key, item, expiry, now)
        return true
      }),
    getWithCas: (key) =>
      withNow((now) => {
        const entry = live(key, now)
        return entry ? Option.some({ ...copyOut(entry), cas: entry.cas }) : Option.none()
      }),
    concat: (side, key, value) =>
      withNow((now) => {
        const entry = live(key, now)
        if (!entry) return false
        const bytes = Buffer.from(value)
        const joined = side === "append" ? Buffer.concat([entry.value, bytes]) : Buffer.concat([bytes, entry.value])
        // memcached answers "not stored" when the result would not fit, and keeps the value
        if (joined.length > maxValueBytes(maxItemSize, key.bytes.length)) return false
        entries.set(key.text, { value: joined, flags: entry.flags, expiresAt: entry.expiresAt, cas: nextCas() })
        return true
      }),
    stats: withNow(() =>
      new Map([["memory", { curr_items: String(entries.size), version: "effect-memcached in-memory store" }]])
    ),
    storeMany: (items, expiry) =>
      withNow((now) => {
        for (const [key, item] of items) write(key, item, expiry, now)
      }),
    delete: (key) => withNow((now) => live(key, now) !== undefined && entries.delete(key.text)),
    deleteMany: (keys) =>
      withNow((now) => keys.filter((key) => live(key, now) !== undefined && entries.delete(key.text)).length),
    touch: (key, expiry) =>
      withNow((now) => {
        const entry = live(key, now)
        if (entry) entry.expiresAt = expiresAtMillis(expiry, now)
        return entry !== undefined
      }),
    getAndTouch: (key, expiry) =>
      withNow((now) => {
        const entry = live(key, now)
        if (!entry) return Option.none()
        const item = copyOut(entry)
        entry.expiresAt = expiresAtMillis(expiry, now)
        return Option.some(item)
      }),
    counter: (direction, key, delta, initial, expiry) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const entry = live(key, now)
        if (!entry) {
          if (initial === undefined) return Effect.succeed(undefined)
          write(key, new ItemRecord(Buffer.from(initial.toString()), 0), expiry, now)
          return Effect.succeed(initial)
        }
        const text = entry.value.toString("latin1")
        if (!/^\d{1,20}$/.test(text) || BigInt(text) > U64_MAX) {
          return Effect.fail(nonNumeric(key))
        }
        const current = BigInt(text)
        const next = nextCounterValue(direction, current, delta)
        entries.set(key.text, {
          value: Buffer.from(next.toString()),
          flags: entry.flags,
          expiresAt: entry.expiresAt,
          cas: nextCas()
        })
        return Effect.succeed(next)
      }),
    flush: Effect.sync(() => entries.clear()),
    version: Effect.succeed(new Map([["memory", "effect-memcached in-memory store"]]))
  }
}
