/**
 * What the shared contract suite (`../../../test/support/contract.ts`) takes from its Effect line, for the Effect 4
 * line: Effect's modules, `@effect/vitest`, this line's public API, and the few spellings the two lines do not share.
 * The Effect 3 line's twin is `test/support/line.ts`; `#line` resolves to one or the other (tsconfig `paths`, vitest
 * `alias`).
 */
import type { Duration, Fiber } from "effect"
import { Effect, Schema } from "effect"

export { assert, layer as layerSuite } from "@effect/vitest"
export { assertNone, assertSome } from "@effect/vitest/utils"
export { Data, Deferred, Duration, Effect, Fiber, Option, Ref, Schema } from "effect"
export type { Layer } from "effect"
export { TestClock } from "effect/testing"
export {
  Cache,
  CacheNotFound,
  InvalidArgument,
  InvalidKey,
  Memcached,
  MemcachedError,
  SerializationError,
  type Ttl,
  ValueTooLarge
} from "../../src/index.js"

/** A duration as this line's `Duration` module takes it. */
export type DurationInput = Duration.Input

/** Runs `effect` in a fiber of its own, a child of the current one. */
export const fork = Effect.forkChild

/** Whether `fiber` is waiting: not done yet (Effect 4 has no fiber status; a fiber that is not done is suspended here). */
export const isWaiting = <A, E>(fiber: Fiber.Fiber<A, E>): Effect.Effect<boolean> =>
  Effect.sync(() => fiber.pollUnsafe() === undefined)

/** A number schema that refuses zero and below. */
export const PositiveNumber = Schema.Number.check(Schema.isGreaterThan(0))
