/**
 * memcached's counter rule: a counter is an unsigned 64-bit decimal; `increment` wraps at 2^64 and `decrement` stops
 * at 0.
 *
 * @internal
 */

/** @internal The largest counter value, 2^64 − 1. */
export const U64_MAX = (1n << 64n) - 1n

/** @internal A counter's next value, as memcached computes it. */
export const nextCounterValue = (direction: "increment" | "decrement", current: bigint, delta: bigint): bigint =>
  direction === "increment" ? (current + delta) & U64_MAX : current > delta ? current - delta : 0n
