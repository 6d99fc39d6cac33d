/**
 * A counter's arguments as the Effect API takes them: `delta` and `initial` must be unsigned 64-bit integers (the
 * engine's counter rule, `engine/counter.ts`).
 *
 * @internal
 */
import * as Either from "effect/Either"
import { U64_MAX } from "../engine/counter.js"

/** @internal A counter's `delta` or `initial` as an unsigned 64-bit integer, or what is wrong with it. */
export const toUnsigned64 = (value: unknown): Either.Either<bigint, string> => {
  if (typeof value === "number" && !Number.isSafeInteger(value)) {
    return Either.left(`must be a whole number, got ${value}`)
  }
  if (typeof value !== "number" && typeof value !== "bigint") {
    return Either.left(`must be a bigint or a whole number, got ${typeof value}`)
  }
  const big = BigInt(value)
  return big < 0n || big > U64_MAX ? Either.left(`must be between 0 and 2^64-1, got ${big}`) : Either.right(big)
}
