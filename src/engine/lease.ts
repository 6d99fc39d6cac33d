/**
 * The lease rules of `getOrSet` (stampede protection), shared by both Effect lines: over binary, the lease of `key` is
 * the key `<key>:lease`, taken with memcached's atomic `add`; over meta, memcached keeps it on the key itself (a read
 * that misses creates a placeholder and wins, `LeaseAnswer` in `item.ts`). Its options are checked here. Each line's
 * `internal/cache/lease.ts` runs the lease.
 *
 * @internal
 */
import type { OptionReaders } from "./options.js"
import { BadDuration, readWithUnits } from "./options.js"

/** @internal A lease's options, checked, in milliseconds. */
export interface Lease {
  readonly ttlMillis: number
  readonly waitMillis: number
  readonly pollMillis: number
  /** Over meta, whether a stale value is returned at once while one caller recomputes it. */
  readonly staleWhileRevalidate: boolean
}

/** @internal An argument of a lease that it cannot use: its name (`lease.wait`, …) and what is wrong with it. */
export class BadLease {
  constructor(readonly argument: string, readonly reason: string) {}
}

/** @internal The key that holds the lease of `key`. */
export const leaseKeyOf = (key: string): string => `${key}:lease`

/** @internal The value of a lease key. */
export const LEASE_VALUE: Uint8Array = new TextEncoder().encode("1")

/** One of the lease's durations in milliseconds, or what is wrong with it. */
const leaseMillis = (
  millis: OptionReaders["millis"],
  name: "ttl" | "wait" | "poll",
  input: unknown,
  fallback: number,
  allowZero: boolean
): number | BadLease => {
  if (input === undefined) return fallback
  const read = readWithUnits(input, millis)
  if (read instanceof BadDuration) return new BadLease(`lease.${name}`, read.reason)
  return Number.isFinite(read) && (allowZero ? read >= 0 : read > 0)
    ? read
    : new BadLease(`lease.${name}`, `must be a ${allowZero ? "" : "positive, "}finite duration`)
}

/**
 * @internal The lease of a `getOrSet` (`undefined`: none), or what is wrong with its options. `millis` reads a
 * duration as the line has them.
 */
export const checkLease = (
  lease: unknown,
  millis: OptionReaders["millis"]
): Lease | undefined | BadLease => {
  if (lease === undefined || lease === false) return undefined
  if (lease !== true && (typeof lease !== "object" || lease === null)) {
    return new BadLease("lease", "must be true, false or LeaseOptions")
  }
  const options: {
    readonly ttl?: unknown
    readonly wait?: unknown
    readonly poll?: unknown
    readonly staleWhileRevalidate?: unknown
  } = lease === true ? {} : lease
  const ttlMillis = leaseMillis(millis, "ttl", options.ttl, 5000, false)
  if (ttlMillis instanceof BadLease) return ttlMillis
  const waitMillis = leaseMillis(millis, "wait", options.wait, 2000, true)
  if (waitMillis instanceof BadLease) return waitMillis
  const pollMillis = leaseMillis(millis, "poll", options.poll, 50, false)
  if (pollMillis instanceof BadLease) return pollMillis
  const staleWhileRevalidate = options.staleWhileRevalidate ?? false
  if (typeof staleWhileRevalidate !== "boolean") {
    return new BadLease("lease.staleWhileRevalidate", "must be true or false")
  }
  return { ttlMillis, waitMillis, pollMillis, staleWhileRevalidate }
}
