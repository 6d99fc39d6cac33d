/**
 * The cross-process lease of `getOrSet` (stampede protection): on a miss, memcached's atomic `add` of `<key>:lease`
 * decides which process computes the value; the others poll for it. See `LeaseOptions` in `Cache.ts`.
 *
 * @internal
 */
import type { CacheError, SerializationError } from "#effect-line"
import { currentTimeMillis, Duration, Effect, InvalidArgument, Option, readers } from "#effect-line"
import type { Item } from "../../engine/item.js"
import type { Lease } from "../../engine/lease.js"
import { BadLease, checkLease, LEASE_VALUE, leaseKeyOf } from "../../engine/lease.js"
import type { MemcachedView } from "../memcachedService.js"

/**
 * @internal The lease of a `getOrSet` (`undefined`: none), or `InvalidArgument` for options it cannot use (the
 * engine's rules, `engine/lease.ts`).
 */
export const leaseOf = (key: string, lease: unknown): Lease | undefined | InvalidArgument => {
  const checked = checkLease(lease, readers.millis)
  return checked instanceof BadLease
    ? new InvalidArgument({ argument: checked.argument, reason: checked.reason, key })
    : checked
}

const currentMillis = Effect.clockWith((clock) => Effect.succeed(currentTimeMillis(clock)))

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
  const leaseKey = leaseKeyOf(key)
  const acquire: Effect.Effect<boolean | "unleased", CacheError> = memcached.add(leaseKey, LEASE_VALUE, {
    ttl: Duration.millis(lease.ttlMillis)
  }).pipe(Effect.catchTag("InvalidKey", () => Effect.succeed("unleased" as const)))
  const asHolder = Effect.flatMap(
    get(key),
    Option.match({
      onSome: (value) => Effect.succeed(value),
      onNone: () => computeAndStore
    })
  ).pipe(Effect.ensuring(Effect.ignore(memcached.delete(leaseKey))))
  const waitFor = (deadline: number): Effect.Effect<A, E | CacheError, R> =>
    Effect.flatMap(
      Effect.andThen(Effect.sleep(Duration.millis(lease.pollMillis)), memcached.getMany([key, leaseKey])),
      (found) => {
        const item = found.get(key)
        if (item) return decode(key, item)
        const retry = Effect.flatMap(
          currentMillis,
          (now): Effect.Effect<A, E | CacheError, R> => now >= deadline ? computeAndStore : waitFor(deadline)
        )
        if (found.has(leaseKey)) return retry
        return Effect.flatMap(acquire, (won) => won === false ? retry : won === true ? asHolder : computeAndStore)
      }
    )
  return Effect.flatMap(acquire, (won): Effect.Effect<A, E | CacheError, R> => {
    if (won === "unleased") return computeAndStore
    if (won) return asHolder
    return Effect.flatMap(currentMillis, (now) => waitFor(now + lease.waitMillis))
  })
}
