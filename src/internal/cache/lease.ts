/**
 * The cross-process lease of `getOrSet` (stampede protection): over binary (and in the fake), on a miss, memcached's
 * atomic `add` of `<key>:lease` decides which process computes the value; over meta, memcached decides on the key
 * itself (`serverLeased`). The others poll for it. See `LeaseOptions` in `Cache.ts`.
 *
 * @internal
 */
import type { CacheError, SerializationError } from "#effect-line"
import { currentTimeMillis, Duration, Effect, InvalidArgument, Option, readers } from "#effect-line"
import type { Item, LeaseAnswer } from "../../engine/item.js"
import type { Lease } from "../../engine/lease.js"
import { BadLease, checkLease, LEASE_VALUE, leaseKeyOf } from "../../engine/lease.js"
import type { MemcachedView, ServerLease } from "../memcachedService.js"

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

/**
 * @internal `computeAndStore` under memcached's own lease (meta, `engine/lease.ts`), in one round trip when the value
 * is there: the read answers with the value, or makes this caller the one that computes it (a miss leaves a
 * placeholder for `ttl`; a stale value goes to one reader), or says another caller computes it: then this one reads
 * again every `poll` for up to `wait`, then computes itself. With `staleWhileRevalidate`, a stale value is returned
 * at once to all but the one that recomputes it. A winner that fails hands the computation on: its placeholder is
 * deleted, or its stale value marked stale again, so that the next read wins.
 */
export const serverLeased = <A, E, R>(options: {
  readonly memcached: MemcachedView
  readonly server: ServerLease
  readonly key: string
  readonly lease: Lease
  /** Decodes an item read at a key. */
  readonly decode: (key: string, item: Item) => Effect.Effect<A, SerializationError>
  readonly computeAndStore: () => Effect.Effect<A, E | CacheError, R>
}): Effect.Effect<A, E | CacheError, R> => {
  const { computeAndStore, decode, key, lease, memcached, server } = options
  const read = server.getWithLease(key, Duration.millis(lease.ttlMillis))
  const answer = (deadline: number | undefined) => (found: LeaseAnswer): Effect.Effect<A, E | CacheError, R> => {
    if (found.win) {
      return Effect.onError(
        computeAndStore(),
        () => Effect.ignore(found.item === undefined ? memcached.delete(key) : server.invalidate(key))
      )
    }
    if (found.item !== undefined && (!found.stale || lease.staleWhileRevalidate)) return decode(key, found.item)
    return Effect.flatMap(currentMillis, (now) => {
      const until = deadline ?? now + lease.waitMillis
      return now >= until
        ? computeAndStore()
        : Effect.andThen(Effect.sleep(Duration.millis(lease.pollMillis)), Effect.flatMap(read, answer(until)))
    })
  }
  return Effect.flatMap(read, answer(undefined))
}
