/**
 * The in-memory backend behind `Memcached.layerMemory`: the engine's in-memory store (`engine/memory.ts`) on the
 * Effect `Clock`, so a `TestClock` expires keys. Shared by both Effect lines: what differs between them comes from
 * `#effect-line`.
 *
 * @internal
 */
import { Clock, Effect, optionOf } from "#effect-line"
import { EngineFailure } from "../engine/failure.js"
import { makeMemoryStore } from "../engine/memory.js"
import type { Backend } from "./backend.js"
import { toMemcachedError } from "./engineFailure.js"

const withNow = <A>(f: (now: number) => A) => Effect.map(Clock.currentTimeMillis, f)

/** @internal An empty in-memory backend whose items are at most `maxItemSize` bytes, key and overhead included. */
export const makeMemoryBackend = (maxItemSize: number): Backend => {
  const memory = makeMemoryStore(maxItemSize)
  return {
    maxItemSize,
    get: (key) => withNow((now) => optionOf(memory.get(key, now))),
    getMany: (keys) => withNow((now) => memory.getMany(keys, now)),
    write: (mode, key, item, expiry, cas) => withNow((now) => memory.write(mode, key, item, expiry, now, cas)),
    getWithCas: (key) => withNow((now) => optionOf(memory.getWithCas(key, now))),
    concat: (side, key, value) => withNow((now) => memory.concat(side, key, value, now)),
    stats: Effect.sync(memory.stats),
    writeMany: (items, expiry) => withNow((now) => memory.writeMany(items, expiry, now)),
    delete: (key) => withNow((now) => memory.delete(key, now)),
    deleteMany: (keys) => withNow((now) => memory.deleteMany(keys, now)),
    touch: (key, expiry) => withNow((now) => memory.touch(key, expiry, now)),
    getAndTouch: (key, expiry) => withNow((now) => optionOf(memory.getAndTouch(key, expiry, now))),
    counter: (direction, key, delta, initial, expiry) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const next = memory.counter(direction, key, delta, initial, expiry, now)
        return next instanceof EngineFailure ? Effect.fail(toMemcachedError(next)) : Effect.succeed(next)
      }),
    flush: Effect.sync(memory.flush),
    version: Effect.succeed(memory.version)
  }
}
