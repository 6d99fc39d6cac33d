/**
 * The Promise facade's fast path: `get`, `getMany` and `set` of a `MemcachedCache` over the engine, with no telemetry
 * layer, a built-in serializer and the default retry, run without an Effect. They are the `Cache` service's
 * `getOrElse`, `getOrFail`, `getMany` and `set` over the checked service's `DirectService` (the same checks, errors,
 * retry and metrics as its Effects), in the same order: a key that is not a string, then the serializer, then the
 * checked service's rules. Anything else the facade does keeps its Effect path. Its calls run on no fiber, so they are
 * measured with no metric tags. Shared by both Effect lines: what differs between them comes from `#effect-line`.
 *
 * @internal
 */
import type { SerializerService } from "#effect-line"
import { CacheNotFound, Cause, Effect, Exit, noMetricTags, notAStringKey } from "#effect-line"
import type { FacadeFastPath } from "../engine/facade.js"
import { formatOf } from "../engine/serialization.js"
import type { ItemCodec } from "./cache/codec.js"
import { identity, makeItemCodec } from "./cache/codec.js"
import type { DirectService } from "./checkedService.js"

/** The built-in serializers (each line registers them with their format) answer at once, so they need no fiber. */
const builtIn = (serializer: SerializerService): boolean => formatOf.has(serializer)

/**
 * The value of a serializer's answer, or the rejection of its failure: a success is an `Exit` already; a failure
 * (`Effect.fail`, which runs to attach the fiber's span) is run here, at once, as the facade's runner would.
 */
const settled = <A>(answer: Effect.Effect<A, unknown>): A | Promise<never> => {
  const exit = Exit.isExit(answer) ? answer as Exit.Exit<A, unknown> : Effect.runSyncExit(answer)
  return Exit.isSuccess(exit) ? exit.value : Promise.reject(Cause.squash(exit.cause))
}

/** The facade's fast path over `direct` with `serializer`, or `undefined` when the serializer needs a fiber. */
const makeFastPath = (direct: DirectService, serializer: SerializerService): FacadeFastPath | undefined => {
  if (!builtIn(serializer)) return undefined
  const items: ItemCodec<unknown> = makeItemCodec(serializer, identity)
  return {
    get: (key, fallback, fail) =>
      new Promise((resolve, reject) =>
        direct.get(key, noMetricTags, (item, failure) =>
          failure !== undefined
            ? reject(failure.error)
            : item !== undefined
            ? resolve(settled(items.decode(key, item)))
            : fail
            ? reject(new CacheNotFound({ key }))
            : resolve(fallback))
      ),
    getMany: (keys) =>
      new Promise((resolve, reject) =>
        direct.getMany(keys, noMetricTags, (found, failure) =>
          failure !== undefined
            ? reject(failure.error)
            : resolve(settled(items.decodeAll(found!)) as Map<string, unknown> | Promise<never>))
      ),
    set: (key, value, ttl) => {
      if (typeof key !== "string") return Promise.reject(notAStringKey(key))
      const item = settled(items.encode(key, value))
      return item instanceof Promise
        ? item
        : new Promise((resolve, reject) =>
          direct.set(
            key,
            item,
            ttl,
            noMetricTags,
            (_, failure) => failure !== undefined ? reject(failure.error) : resolve()
          )
        )
    }
  }
}

/**
 * @internal A facade's fast paths: none until its runtime is built and its `Memcached` has a `DirectService` (`use`),
 * then one for each built-in serializer it is asked for.
 */
export class FastPaths {
  #direct: DirectService | undefined = undefined
  readonly #paths = new Map<SerializerService, FacadeFastPath | undefined>()

  /** Takes `direct` (the built runtime's, when the facade may skip it) for every later call. */
  use(direct: DirectService | undefined): void {
    this.#direct = direct
  }

  /** Forgets the `DirectService` and every path: the runtime is gone. */
  clear(): void {
    this.#direct = undefined
    this.#paths.clear()
  }

  /** The fast path with `serializer`, if there is one. */
  of(serializer: SerializerService): FacadeFastPath | undefined {
    const direct = this.#direct
    if (direct === undefined) return undefined
    let fast = this.#paths.get(serializer)
    if (fast === undefined && !this.#paths.has(serializer)) {
      fast = makeFastPath(direct, serializer)
      this.#paths.set(serializer, fast)
    }
    return fast
  }
}
