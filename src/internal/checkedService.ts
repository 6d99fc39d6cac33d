/**
 * The shared rules in front of every store: keys are checked and prefixed, TTLs normalised, values measured, all
 * before anything reaches a store. Real memcached and the in-memory fake both sit behind this one function, so the
 * fake cannot drift from the real thing.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import type { InvalidKey } from "../errors/InvalidKey.js"
import { MemcachedError } from "../errors/MemcachedError.js"
import type { ValueTooLarge } from "../errors/ValueTooLarge.js"
import type { Item, MemcachedService, WriteOptions } from "../Memcached.js"
import type { ObservabilityOptions } from "../Observability.js"
import { failedAsClosed, mayHaveBeenApplied } from "./connection.js"
import { maxValueBytes, valueTooLarge } from "./itemSize.js"
import type { KeyRules, WireKey } from "./keys.js"
import { makeKeyEncoder } from "./keys.js"
import { instrument } from "./observability.js"
import { ItemRecord } from "./records.js"
import type { Store, StoreMode } from "./store.js"
import { toExpiry } from "./ttl.js"

/** @internal */
export interface CheckedServiceOptions extends KeyRules, ObservabilityOptions {
  readonly defaultTtl?: Duration.DurationInput | null | undefined
  readonly retry?: Schedule.Schedule<unknown, MemcachedError> | undefined
}

/** @internal Once more, at once, when the connection was refused, reset or closed. */
export const defaultRetry: Schedule.Schedule<unknown, MemcachedError> = Schedule.recurs(1).pipe(
  Schedule.intersect(Schedule.recurWhile((error: MemcachedError) => error.reason === "Unavailable"))
)

/** A failure that sending again may mend: not one of a closed layer. */
const retryable = (error: unknown): error is MemcachedError =>
  error instanceof MemcachedError && (error.reason === "Unavailable" || error.reason === "Timeout") &&
  !failedAsClosed(error)

/** A failed write that may have reached the server says so, and is never sent again. */
const markUnknownOutcome = (error: unknown) =>
  error instanceof MemcachedError && mayHaveBeenApplied(error)
    ? new MemcachedError({ ...error, outcomeUnknown: true })
    : error

const U64_MAX = (1n << 64n) - 1n

const toUnsigned64 = (name: string, value: bigint | number): bigint => {
  if (typeof value === "number" && !Number.isSafeInteger(value)) {
    throw new TypeError(`${name} must be a whole number, got ${value}`)
  }
  const big = BigInt(value)
  if (big < 0n || big > U64_MAX) throw new TypeError(`${name} must be between 0 and 2^64-1, got ${big}`)
  return big
}

/**
 * @internal Builds the `Memcached` service over a store: the shared rules, then one span and the metrics per public
 * operation (`instrument`). Throws (at build time) only on a bad `defaultTtl`.
 */
export const makeCheckedService = (store: Store, options: CheckedServiceOptions): MemcachedService => {
  const encodeKey = makeKeyEncoder(options)
  const defaultTtl = options.defaultTtl === undefined ? "300 seconds" : options.defaultTtl

  const retry = options.retry ?? defaultRetry
  /** Runs `effect` again as `retry` says, after its first failure `cause`, if that failure is retryable. */
  const retryAfter = <A, E>(effect: Effect.Effect<A, E>, cause: Cause.Cause<E>): Effect.Effect<A, E> => {
    const failure = Cause.failureOption(cause)
    const first = Option.isSome(failure) ? failure.value : undefined
    if (!retryable(first)) return Effect.failCause(cause)
    return Effect.flatMap(Schedule.driver(retry), (driver) => {
      const again = (error: MemcachedError): Effect.Effect<A, E> =>
        Effect.matchEffect(driver.next(error), {
          onFailure: () => Effect.fail(error as E),
          onSuccess: () => Effect.catchIf(effect, retryable, again) as Effect.Effect<A, E>
        })
      return again(first)
    })
  }
  /**
   * For operations that may safely be sent twice. The schedule is started only after a first retryable failure, and
   * the common path pays for one handler, not `catchIf`'s two.
   */
  const idempotent = <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, E> =>
    Effect.catchAllCause(effect, (cause) => retryAfter(effect, cause))
  /** For operations that may not: never retried, and an unknown outcome is said. */
  const once = <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, E> =>
    Effect.mapError(effect, (error) => markUnknownOutcome(error) as E)

  const defaultExpiry = toExpiry(defaultTtl)
  const expiryOf = (ttl: Duration.DurationInput | null | undefined) => ttl === undefined ? defaultExpiry : toExpiry(ttl)

  /**
   * The key is checked when the operation is built, not in an `Effect.suspend` of its own: a bad key is an Effect
   * that fails with nothing sent, and anything else that throws while building (a NaN TTL, a negative delta) is a
   * defect of the Effect, as it would be inside `suspend`.
   */
  const withKey = <A, E, R>(key: string, f: (wire: WireKey) => Effect.Effect<A, E, R>) => {
    try {
      const wire = encodeKey(key)
      return Either.isLeft(wire) ? Effect.fail(wire.left) as Effect.Effect<A, E | InvalidKey, R> : f(wire.right)
    } catch (defect) {
      return Effect.die(defect)
    }
  }

  const withKeys = <A, E, R>(keys: Iterable<string>, f: (wire: ReadonlyArray<WireKey>) => Effect.Effect<A, E, R>) =>
    Effect.suspend((): Effect.Effect<A, E | InvalidKey, R> => {
      const wire: Array<WireKey> = []
      const seen = new Set<string>()
      for (const key of keys) {
        const encoded = encodeKey(key)
        if (Either.isLeft(encoded)) return Effect.fail(encoded.left)
        if (!seen.has(encoded.right.text)) {
          seen.add(encoded.right.text)
          wire.push(encoded.right)
        }
      }
      return f(wire)
    })

  /** The error for a value that cannot fit in one item under `wire`, or `undefined` when it fits. */
  const tooLarge = (wire: WireKey, value: Uint8Array) =>
    value.length > maxValueBytes(store.maxItemSize, wire.bytes.length)
      ? valueTooLarge(store.maxItemSize, wire, value.length)
      : undefined

  const storeOne = (mode: StoreMode, cas?: bigint) => (key: string, value: Uint8Array, options?: WriteOptions) =>
    withKey(key, (wire) => {
      const item = new ItemRecord(value, (options?.flags ?? 0) >>> 0)
      const error = tooLarge(wire, value)
      if (error) return Effect.fail(error)
      const write = store.store(mode, wire, item, expiryOf(options?.ttl), cas)
      return mode === "set" && cas === undefined ? idempotent(write) : once(write)
    })

  const concat = (side: "append" | "prepend") => (key: string, value: Uint8Array) =>
    withKey(key, (wire) => {
      const error = tooLarge(wire, value)
      return error ? Effect.fail(error) : once(store.concat(side, wire, value))
    })

  const getWire = (wire: WireKey) => idempotent(store.get(wire))

  const getWithCas = (key: string) => withKey(key, (wire) => idempotent(store.getWithCas(wire)))

  const update = (
    key: string,
    f: (current: Option.Option<Item>) => Item,
    options?: WriteOptions & { readonly attempts?: number | undefined }
  ) => {
    const attempts = options?.attempts ?? 10
    const attempt = (left: number): Effect.Effect<Item, InvalidKey | ValueTooLarge | MemcachedError> =>
      Effect.flatMap(getWithCas(key), (current) => {
        const next = f(Option.map(current, ({ flags, value }) => ({ value, flags })))
        const write = { ttl: options?.ttl, flags: next.flags }
        return Effect.flatMap(
          Option.isSome(current)
            ? storeOne("set", current.value.cas)(key, next.value, write)
            : storeOne("add")(key, next.value, write),
          (stored) => {
            if (stored) return Effect.succeed(next)
            if (left > 1) return attempt(left - 1)
            return Effect.fail(
              new MemcachedError({
                reason: "Protocol",
                detail: `update of ${JSON.stringify(key)} kept conflicting (${attempts} attempts)`
              })
            )
          }
        )
      })
    return attempt(attempts)
  }

  const counter = (direction: "increment" | "decrement") =>
  (
    key: string,
    delta: bigint | number = 1n,
    options?: {
      readonly initial?: bigint | number | undefined
      readonly ttl?: Duration.DurationInput | null | undefined
    }
  ) =>
    withKey(key, (wire) => {
      const initial = options?.initial === undefined ? undefined : toUnsigned64("initial", options.initial)
      return Effect.map(
        once(store.counter(direction, wire, toUnsigned64("delta", delta), initial, expiryOf(options?.ttl))),
        Option.fromNullable
      )
    })

  const service: MemcachedService = {
    get: (key) => withKey(key, getWire),
    getMany: (keys) =>
      withKeys(keys, (wire) =>
        Effect.map(idempotent(store.getMany(wire)), (found) => {
          const byKey = new Map<string, Item>()
          for (let i = 0; i < wire.length; i++) {
            const item = found[i]
            if (item) byKey.set(wire[i]!.key, item)
          }
          return byKey
        })),
    set: (key, value, options) => Effect.asVoid(storeOne("set")(key, value, options)),
    add: storeOne("add"),
    replace: storeOne("replace"),
    setMany: (entries, options) =>
      Effect.suspend(() => {
        const items = new Map<string, Item>()
        for (const [key, item] of entries) items.set(key, item)
        return withKeys(items.keys(), (wire) => {
          const pairs = wire.map((key) => [key, items.get(key.key)!] as const)
          for (const [key, item] of pairs) {
            const error = tooLarge(key, item.value)
            if (error) return Effect.fail(error)
          }
          return idempotent(store.storeMany(
            pairs.map(([key, item]) => [key, new ItemRecord(item.value, item.flags >>> 0)]),
            expiryOf(options?.ttl)
          ))
        })
      }),
    delete: (key) => withKey(key, (wire) => idempotent(store.delete(wire))),
    deleteMany: (keys) => withKeys(keys, (wire) => idempotent(store.deleteMany(wire))),
    touch: (key, ttl) => withKey(key, (wire) => idempotent(store.touch(wire, expiryOf(ttl)))),
    getAndTouch: (key, ttl) => withKey(key, (wire) => idempotent(store.getAndTouch(wire, expiryOf(ttl)))),
    increment: counter("increment"),
    decrement: counter("decrement"),
    append: concat("append"),
    prepend: concat("prepend"),
    getWithCas,
    compareAndSet: (key, value, cas, options) => storeOne("set", cas)(key, value, options),
    update,
    stats: idempotent(store.stats),
    flush: idempotent(store.flush),
    version: idempotent(store.version)
  }
  return instrument(service, options)
}
