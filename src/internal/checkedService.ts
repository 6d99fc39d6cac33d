/**
 * The shared rules in front of every backend: keys are checked and prefixed, TTLs normalised, values measured, all
 * before anything reaches a backend. Real memcached and the in-memory fake both sit behind this one function, so the
 * fake cannot drift from the real thing. Shared by both Effect lines: what differs between them comes from
 * `#effect-line`.
 *
 * @internal
 */
import type { Cause, InvalidKey, ObservabilityOptions, Outcome, Schedule, ValueTooLarge } from "#effect-line"
import {
  catchAllCause,
  decodeTtl,
  defaultRetry,
  Effect,
  failureOf,
  firstFailure,
  InvalidArgument,
  isFailure,
  makeKeyEncoder,
  mapFailure,
  MemcachedError,
  Option,
  optionOf,
  stepper,
  succeed,
  successOf,
  valueTooLarge
} from "#effect-line"
import { toUnsigned64 } from "../engine/counter.js"
import type { LeaseAnswer, WriteMode } from "../engine/item.js"
import { Item } from "../engine/item.js"
import { maxValueBytes } from "../engine/itemSize.js"
import type { KeyRules, WireKey } from "../engine/keys.js"
import type { Expiry } from "../engine/ttl.js"
import type { Backend } from "./backend.js"
import { failedAsClosed, mayHaveBeenApplied } from "./engineFailure.js"
import type { CounterOptions, MemcachedService, ServerLease, WriteOptions } from "./memcachedService.js"
import { serverLeases } from "./memcachedService.js"
import { instrument } from "./observability.js"

/** @internal */
export interface CheckedServiceOptions extends KeyRules, ObservabilityOptions {
  /** The layer's `defaultTtl`, checked (see `options.ts`). */
  readonly defaultExpiry: Expiry
  readonly retry?: Schedule.Schedule<unknown, MemcachedError> | undefined
}

/** A failure that sending again may mend: not one of a closed layer. */
const retryable = (error: unknown): error is MemcachedError =>
  error instanceof MemcachedError && (error.reason === "Unavailable" || error.reason === "Timeout") &&
  !failedAsClosed(error)

/** A failed write that may have reached the server says so, and is never sent again. */
const markUnknownOutcome = (error: unknown) =>
  error instanceof MemcachedError && mayHaveBeenApplied(error)
    ? new MemcachedError({ ...error, outcomeUnknown: true })
    : error

/**
 * @internal Builds the `Memcached` service over a backend: the shared rules, then one span and the metrics per public
 * operation (`instrument`).
 */
export const makeCheckedService = (backend: Backend, options: CheckedServiceOptions): MemcachedService => {
  const encodeKey = makeKeyEncoder(options)
  const retry = options.retry ?? defaultRetry
  /** Runs `effect` again as `retry` says, after its first failure `cause`, if that failure is retryable. */
  const retryAfter = <A, E>(effect: Effect.Effect<A, E>, cause: Cause.Cause<E>): Effect.Effect<A, E> => {
    const first = firstFailure(cause)
    if (!retryable(first)) return Effect.failCause(cause)
    return Effect.flatMap(stepper(retry), (step) => {
      const again = (error: MemcachedError): Effect.Effect<A, E> =>
        Effect.matchEffect(step(error), {
          onFailure: () => Effect.fail(error as E),
          onSuccess: () => Effect.catchIf(effect, (e: E) => retryable(e), (e) => again(e as MemcachedError))
        })
      return again(first)
    })
  }
  /**
   * For operations that may safely be sent twice. The schedule is started only after a first retryable failure, and
   * the common path pays for one handler, not `catchIf`'s two.
   */
  const idempotent = <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, E> =>
    catchAllCause(effect, (cause) => retryAfter(effect, cause))
  /** For operations that may not: never retried, and an unknown outcome is said. */
  const once = <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, E> =>
    Effect.mapError(effect, (error) => markUnknownOutcome(error) as E)
  const defaultExpiry = succeed(options.defaultExpiry)
  /** A write's TTL (left out: the layer's default), or `InvalidArgument` for one without units. */
  const expiryOf = (ttl: unknown, key?: string): Outcome<Expiry, InvalidArgument> =>
    ttl === undefined
      ? defaultExpiry
      : mapFailure(decodeTtl(ttl), (reason) => new InvalidArgument({ argument: "ttl", reason, key }))
  /**
   * The key is checked when the operation is built, not in an `Effect.suspend` of its own: a bad key is an Effect
   * that fails with nothing sent, and anything else that throws while building is a defect of the Effect, as it
   * would be inside `suspend`.
   */
  const withKey = <A, E, R>(key: string, f: (wire: WireKey) => Effect.Effect<A, E, R>) => {
    try {
      const wire = encodeKey(key)
      return isFailure(wire) ? Effect.fail(failureOf(wire)) as Effect.Effect<A, E | InvalidKey, R> : f(successOf(wire))
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
        if (isFailure(encoded)) return Effect.fail(failureOf(encoded))
        if (!seen.has(successOf(encoded).text)) {
          seen.add(successOf(encoded).text)
          wire.push(successOf(encoded))
        }
      }
      return f(wire)
    })
  /** The error for a value that cannot fit in one item under `wire`, or `undefined` when it fits. */
  const tooLarge = (wire: WireKey, value: Uint8Array) =>
    value.length > maxValueBytes(backend.maxItemSize, wire.bytes.length)
      ? valueTooLarge(backend.maxItemSize, wire, value.length)
      : undefined
  const writeOne = (mode: WriteMode, cas?: bigint) => (key: string, value: Uint8Array, options?: WriteOptions) =>
    withKey(key, (wire): Effect.Effect<boolean, InvalidArgument | ValueTooLarge | MemcachedError> => {
      const item = new Item(value, (options?.flags ?? 0) >>> 0)
      const error = tooLarge(wire, value)
      if (error) return Effect.fail(error)
      const expiry = expiryOf(options?.ttl, key)
      if (isFailure(expiry)) return Effect.fail(failureOf(expiry))
      const write = backend.write(mode, wire, item, successOf(expiry), cas)
      return mode === "set" && cas === undefined ? idempotent(write) : once(write)
    })
  const concat = (side: "append" | "prepend") => (key: string, value: Uint8Array) =>
    withKey(key, (wire) => {
      const error = tooLarge(wire, value)
      return error ? Effect.fail(error) : once(backend.concat(side, wire, value))
    })
  const getWire = (wire: WireKey) => idempotent(backend.get(wire))
  const getWithCas = (key: string) => withKey(key, (wire) => idempotent(backend.getWithCas(wire)))
  const update = (
    key: string,
    f: (current: Option.Option<Item>) => Item,
    options?: WriteOptions & { readonly attempts?: number | undefined }
  ) => {
    const attempts = options?.attempts ?? 10
    const expiry = expiryOf(options?.ttl, key)
    if (isFailure(expiry)) return Effect.fail(failureOf(expiry))
    const attempt = (
      left: number
    ): Effect.Effect<Item, InvalidKey | InvalidArgument | ValueTooLarge | MemcachedError> =>
      Effect.flatMap(getWithCas(key), (current) => {
        const next = f(Option.map(current, ({ flags, value }) => new Item(value, flags)))
        const write = { ttl: options?.ttl, flags: next.flags }
        return Effect.flatMap(
          Option.isSome(current)
            ? writeOne("set", current.value.cas)(key, next.value, write)
            : writeOne("add")(key, next.value, write),
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
    options?: CounterOptions
  ) =>
    withKey(key, (wire): Effect.Effect<Option.Option<bigint>, InvalidArgument | MemcachedError> => {
      const invalid = (argument: string, reason: string) => Effect.fail(new InvalidArgument({ argument, reason, key }))
      const initial = options?.initial === undefined ? undefined : toUnsigned64(options.initial)
      if (typeof initial === "string") return invalid("initial", initial)
      const by = toUnsigned64(delta)
      if (typeof by === "string") return invalid("delta", by)
      const expiry = expiryOf(options?.ttl, key)
      if (isFailure(expiry)) return Effect.fail(failureOf(expiry))
      return Effect.map(
        once(backend.counter(direction, wire, by, initial, successOf(expiry))),
        optionOf
      )
    })
  const service: MemcachedService = {
    get: (key) => withKey(key, getWire),
    getMany: (keys) =>
      withKeys(keys, (wire) =>
        Effect.map(idempotent(backend.getMany(wire)), (found) => {
          const byKey = new Map<string, Item>()
          for (let i = 0; i < wire.length; i++) {
            const item = found[i]
            if (item) byKey.set(wire[i]!.key, item)
          }
          return byKey
        })),
    set: (key, value, options) => Effect.asVoid(writeOne("set")(key, value, options)),
    add: writeOne("add"),
    replace: writeOne("replace"),
    setMany: (entries, options) =>
      Effect.suspend(() => {
        const items = new Map<string, Item>()
        for (const [key, item] of entries) items.set(key, item)
        return withKeys(items.keys(), (wire): Effect.Effect<void, InvalidArgument | ValueTooLarge | MemcachedError> => {
          const pairs = wire.map((key) => [key, items.get(key.key)!] as const)
          for (const [key, item] of pairs) {
            const error = tooLarge(key, item.value)
            if (error) return Effect.fail(error)
          }
          const expiry = expiryOf(options?.ttl)
          if (isFailure(expiry)) return Effect.fail(failureOf(expiry))
          return idempotent(backend.writeMany(
            pairs.map(([key, item]) => [key, new Item(item.value, item.flags >>> 0)]),
            successOf(expiry)
          ))
        })
      }),
    delete: (key) => withKey(key, (wire) => idempotent(backend.delete(wire))),
    deleteMany: (keys) => withKeys(keys, (wire) => idempotent(backend.deleteMany(wire))),
    touch: (key, ttl) =>
      withKey(key, (wire): Effect.Effect<boolean, InvalidArgument | MemcachedError> => {
        const expiry = expiryOf(ttl, key)
        return isFailure(expiry) ? Effect.fail(failureOf(expiry)) : idempotent(backend.touch(wire, successOf(expiry)))
      }),
    getAndTouch: (key, ttl) =>
      withKey(key, (wire): Effect.Effect<Option.Option<Item>, InvalidArgument | MemcachedError> => {
        const expiry = expiryOf(ttl, key)
        return isFailure(expiry)
          ? Effect.fail(failureOf(expiry))
          : idempotent(backend.getAndTouch(wire, successOf(expiry)))
      }),
    increment: counter("increment"),
    decrement: counter("decrement"),
    append: concat("append"),
    prepend: concat("prepend"),
    getWithCas,
    compareAndSet: (key, value, cas, options) => writeOne("set", cas)(key, value, options),
    update,
    stats: idempotent(backend.stats),
    flush: idempotent(backend.flush),
    version: idempotent(backend.version)
  }
  const instrumented = instrument(service, options)
  const { invalidate, lease } = backend
  if (lease && invalidate) {
    const leases: ServerLease = {
      // A lease read that may have won is never sent again: its second read would wait for its own placeholder.
      getWithLease: (key, ttl) =>
        withKey(key, (wire): Effect.Effect<LeaseAnswer, InvalidArgument | MemcachedError> => {
          const expiry = expiryOf(ttl, key)
          return isFailure(expiry) ? Effect.fail(failureOf(expiry)) : once(lease(wire, successOf(expiry)))
        }),
      invalidate: (key) => withKey(key, (wire) => idempotent(invalidate(wire)))
    }
    // Traced and measured as the service's own operations; `getWithLease` is a read (a hit or a miss).
    serverLeases.set(instrumented, instrument(leases, options))
  }
  return instrumented
}
