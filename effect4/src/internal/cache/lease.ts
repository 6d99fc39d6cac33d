/**
 * The cross-process lease of `getOrSet` (stampede protection): on a miss, memcached's atomic `add` of `<key>:lease`
 * decides which process computes the value; the others poll for it. See `LeaseOptions` in `Cache.ts`.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import type { Item } from "../../../../src/engine/item.js"
import type { CacheError } from "../../errors/index.js"
import { InvalidArgument } from "../../errors/InvalidArgument.js"
import type { SerializationError } from "../../errors/SerializationError.js"
import type { MemcachedView } from "../memcachedService.js"
import { decodeWithUnits } from "../ttl.js"

/** @internal A lease's options, checked. */
export interface Lease {
  readonly ttl: Duration.Duration
  /** In milliseconds. */
  readonly wait: number
  readonly poll: Duration.Duration
}

/** The lease option as given: anything may have been forced past the types. */
interface LeaseInput {
  readonly ttl?: unknown
  readonly wait?: unknown
  readonly poll?: unknown
}

/** One of the lease's durations, or what is wrong with it. */
const leaseDuration = (
  key: string,
  name: "ttl" | "wait" | "poll",
  input: unknown,
  fallback: Duration.Input,
  allowZero: boolean
): Result.Result<Duration.Duration, InvalidArgument> => {
  const invalid = (reason: string) => new InvalidArgument({ argument: `lease.${name}`, reason, key })
  if (input === undefined) return Result.succeed(Duration.fromInputUnsafe(fallback))
  return Result.flatMap(Result.mapError(decodeWithUnits(input), invalid), (duration) => {
    const millis = Duration.toMillis(duration)
    return Number.isFinite(millis) && (allowZero || millis > 0)
      ? Result.succeed(duration)
      : Result.fail(invalid(`must be a ${allowZero ? "" : "positive, "}finite duration`))
  })
}

const noLease = Result.succeed(undefined)

/** @internal The lease of a `getOrSet` (`undefined`: none), or `InvalidArgument` for options it cannot use. */
export const leaseOf = (key: string, lease: unknown): Result.Result<Lease | undefined, InvalidArgument> => {
  if (lease === undefined || lease === false) return noLease
  if (lease !== true && (typeof lease !== "object" || lease === null)) {
    return Result.fail(new InvalidArgument({ argument: "lease", reason: "must be true, false or LeaseOptions", key }))
  }
  const options: LeaseInput = lease === true ? {} : lease
  return Result.all({
    ttl: leaseDuration(key, "ttl", options.ttl, "5 seconds", false),
    wait: Result.map(leaseDuration(key, "wait", options.wait, "2 seconds", true), Duration.toMillis),
    poll: leaseDuration(key, "poll", options.poll, "50 millis", false)
  })
}

const LEASE_VALUE = new TextEncoder().encode("1")

const currentMillis = Effect.clockWith((clock) => Effect.succeed(clock.currentTimeMillisUnsafe()))

/**
 * @internal `computeAndStore` under the lease of `key`: `add` decides who computes. The holder looks once more (a
 * holder that just finished may have released the lease between our miss and our `add`), computes, stores, and
 * releases. The others poll the value and the lease together; a lease gone without a value (its holder failed) is
 * taken again, and after `wait` they compute themselves. A lease key over the key limit means no lease.
 */
export const leased = <A, E, R>(options: {
  readonly memcached: MemcachedView
  readonly key: string
  readonly lease: Lease
  /** Reads and decodes the value at a key. */
  readonly get: (key: string) => Effect.Effect<Option.Option<A>, CacheError>
  /** Decodes an item read at a key. */
  readonly decode: (key: string, item: Item) => Effect.Effect<A, SerializationError>
  readonly computeAndStore: Effect.Effect<A, E | CacheError, R>
}): Effect.Effect<A, E | CacheError, R> => {
  const { computeAndStore, decode, get, key, lease, memcached } = options
  const leaseKey = `${key}:lease`
  const acquire: Effect.Effect<boolean | "unleased", CacheError> = memcached.add(leaseKey, LEASE_VALUE, {
    ttl: lease.ttl
  }).pipe(Effect.catchTag("InvalidKey", () => Effect.succeed("unleased" as const)))
  const asHolder = Effect.flatMap(
    get(key),
    Option.match({
      onSome: (value) => Effect.succeed(value),
      onNone: () => computeAndStore
    })
  ).pipe(Effect.ensuring(Effect.ignore(memcached.delete(leaseKey))))
  const waitFor = (deadline: number): Effect.Effect<A, E | CacheError, R> =>
    Effect.flatMap(Effect.andThen(Effect.sleep(lease.poll), memcached.getMany([key, leaseKey])), (found) => {
      const item = found.get(key)
      if (item) return decode(key, item)
      const retry = Effect.flatMap(
        currentMillis,
        (now): Effect.Effect<A, E | CacheError, R> => now >= deadline ? computeAndStore : waitFor(deadline)
      )
      if (found.has(leaseKey)) return retry
      return Effect.flatMap(acquire, (won) => won === false ? retry : won === true ? asHolder : computeAndStore)
    })
  return Effect.flatMap(acquire, (won): Effect.Effect<A, E | CacheError, R> => {
    if (won === "unleased") return computeAndStore
    if (won) return asHolder
    return Effect.flatMap(currentMillis, (now) => waitFor(now + lease.wait))
  })
}
