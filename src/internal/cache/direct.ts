/**
 * How the `Cache` service reads and writes one item: over a checked service with a `DirectService` (the engine, the
 * default retry), in one `callback` step of the caller's fiber, with the key checked, the request sent, retried and
 * measured as plain code; otherwise, or for a fiber whose tracer collects spans (the Effect path makes them) or whose
 * clock is not the live one (the Effect path reads it), through the service's Effects. Either way the same checks,
 * errors, retry, metrics and debug logs. Shared by both Effect lines: what differs between them comes from
 * `#effect-line`.
 *
 * @internal
 */
import type { InvalidArgument, InvalidKey, MemcachedError, MetricTags, RunningFiber, ValueTooLarge } from "#effect-line"
import { callback, clockOf, currentFiber, Effect, liveClock, metricTagsOf, Option, tracesSpans } from "#effect-line"
import type { Item } from "../../engine/item.js"
import type { DirectFailure, DirectService } from "../checkedService.js"
import { directServices } from "../checkedService.js"
import type { Reported } from "../engineFailure.js"
import { logReported } from "../engineFailure.js"
import type { MemcachedView } from "../memcachedService.js"
import { WriteRecord } from "../memcachedService.js"

/** @internal Reads and writes of single items, for one `MemcachedView`. */
export interface ItemAccess {
  /** Reads `key` and goes on with `then` of its item, `undefined` on a miss. */
  readonly read: <A, E>(
    key: string,
    then: (item: Item | undefined) => Effect.Effect<A, E>
  ) => Effect.Effect<A, E | ReadError>
  /** Reads `keys` and goes on with `then` of the items found, by key. */
  readonly readMany: <A, E>(
    keys: Iterable<string>,
    then: (items: ReadonlyMap<string, Item>) => Effect.Effect<A, E>
  ) => Effect.Effect<A, E | ReadError>
  /** Stores `item` at `key` for `ttl` as `WriteOptions` gives it (left out: the layer's default). */
  readonly write: (key: string, item: Item, ttl: unknown) => Effect.Effect<void, WriteError>
}

type ReadError = InvalidKey | MemcachedError
type WriteError = InvalidKey | InvalidArgument | ValueTooLarge | MemcachedError

/** A direct call's failure as the Effect path has it: a defect dies, anything else fails. */
const failed = (failure: DirectFailure): Effect.Effect<never, any> =>
  failure.defect ? Effect.die(failure.error) : Effect.fail(failure.error)

/** A direct call's end as the Effect path has it: its transport failures logged first, then `then()` or its failure. */
const ended = <A, E>(
  failure: DirectFailure | undefined,
  reported: ReadonlyArray<Reported> | undefined,
  then: () => Effect.Effect<A, E>
): Effect.Effect<A, any> => {
  if (reported === undefined) return failure === undefined ? then() : failed(failure)
  return Effect.andThen(logReported(reported), failure === undefined ? Effect.suspend(then) : failed(failure))
}

/** @internal The item access of `memcached`. */
export const itemAccess = (memcached: MemcachedView): ItemAccess => {
  const readSlowly = <A, E>(key: string, then: (item: Item | undefined) => Effect.Effect<A, E>) =>
    Effect.flatMap(memcached.get(key), (found) => then(Option.getOrUndefined(found)))
  const readManySlowly = <A, E>(
    keys: Iterable<string>,
    then: (items: ReadonlyMap<string, Item>) => Effect.Effect<A, E>
  ) => Effect.flatMap(memcached.getMany(keys), then)
  const writeSlowly = (key: string, item: Item, ttl: unknown) =>
    memcached.set(key, item.value, new WriteRecord(item.flags, ttl as never))
  const direct: DirectService | undefined = directServices.get(memcached)
  if (direct === undefined) return { read: readSlowly, readMany: readManySlowly, write: writeSlowly }
  /** The metric tags of a fiber that may take the direct path, or `undefined` when it must take the Effect path. */
  const tagsOf = (fiber: RunningFiber | undefined): MetricTags | undefined =>
    fiber === undefined || (direct.tracing && tracesSpans(fiber)) || clockOf(fiber) !== liveClock
      ? undefined
      : metricTagsOf(fiber)
  return {
    read: <A, E>(key: string, then: (item: Item | undefined) => Effect.Effect<A, E>) =>
      callback<A, E | ReadError>((resume) => {
        const tags = tagsOf(currentFiber())
        if (tags === undefined) return resume(readSlowly(key, then))
        direct.get(key, tags, (item, failure, reported) =>
          resume(
            failure === undefined && reported === undefined ? then(item) : ended(failure, reported, () => then(item))
          ))
      }),
    readMany: <A, E>(keys: Iterable<string>, then: (items: ReadonlyMap<string, Item>) => Effect.Effect<A, E>) =>
      callback<A, E | ReadError>((resume) => {
        const tags = tagsOf(currentFiber())
        if (tags === undefined) return resume(readManySlowly(keys, then))
        direct.getMany(keys, tags, (items, failure, reported) => resume(ended(failure, reported, () => then(items!))))
      }),
    write: (key, item, ttl) =>
      callback<void, WriteError>((resume) => {
        const tags = tagsOf(currentFiber())
        if (tags === undefined) return resume(writeSlowly(key, item, ttl))
        direct.set(key, item, ttl, tags, (_, failure, reported) => resume(ended(failure, reported, () => Effect.void)))
      })
  }
}
