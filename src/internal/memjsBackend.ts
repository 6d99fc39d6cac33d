/**
 * The real backend: the engine's client of memcached servers (`engine/client.ts`), each of its callbacks resumed as an
 * Effect (`callback`: `Effect.async`, `Effect.callback` on the Effect 4 line). Its failures become `MemcachedError`s
 * here (`engineFailure.ts`), a value the server finds too large `ValueTooLarge`, and each request's server is told to
 * its observed call (`observability.ts`). Shared by both Effect lines: what differs between them comes from
 * `#effect-line`.
 *
 * @internal
 */
import { callback, currentFiber, Effect, Option, ValueTooLarge } from "#effect-line"
import type { EngineClient } from "../engine/client.js"
import { EngineFailure } from "../engine/failure.js"
import type { Item } from "../engine/item.js"
import { TooLarge } from "../engine/itemSize.js"
import type { ServerAddress } from "../engine/servers.js"
import type { MemjsBackend } from "./backend.js"
import { failWith } from "./engineFailure.js"
import { callOf } from "./observability.js"

/** A `callback` resume; each operation's own type (see `Backend`) says what it resumes with. */
type Resume = (effect: Effect.Effect<any, any>) => void

/**
 * Sends a request, from the caller's async context where the call keeps one (`Call.scope`), and tells the fiber's
 * observed call, if any, which server it went to (see `Call`). It runs inside `callback`'s register, where the fiber
 * that runs it is the current one.
 */
const send = (request: () => ServerAddress | undefined): void => {
  const fiber = currentFiber()
  const call = fiber === undefined ? undefined : callOf(fiber)
  if (call === undefined) return void request()
  const server = call.scope === undefined ? request() : call.scope.runInAsyncScope(request)
  if (server !== undefined) call.sent(server)
}

/** Resumes with the engine's answer as it is. */
const resumeValue = (resume: Resume, result: unknown, report?: number) =>
  resume(
    result instanceof EngineFailure
      ? failWith(result, report)
      : result instanceof TooLarge
      ? Effect.fail(new ValueTooLarge(result))
      : result === undefined
      ? Effect.void
      : Effect.succeed(result)
  )

/** Resumes with a read's item, `undefined` for a miss, as an `Option`. */
const resumeOption = (resume: Resume, result: Item | undefined | EngineFailure, report?: number) =>
  resume(
    result instanceof EngineFailure
      ? failWith(result, report)
      : result === undefined
      ? Effect.succeedNone
      : Effect.succeed(Option.some(result))
  )

/** @internal The backend over an engine client of either wire dialect (see `engine/dialect.ts`). */
export const makeMemjsBackend = (client: EngineClient): MemjsBackend => {
  const { invalidate, lease } = client
  return {
    maxItemSize: client.maxItemSize,
    engine: client,
    get: (key) => callback((resume) => send(() => client.get(key, resumeOption, resume))),
    getMany: (keys) => callback((resume) => send(() => client.getMany(keys, resumeValue, resume))),
    write: (mode, key, item, expiry, cas) =>
      callback((resume) => send(() => client.write(mode, key, item, expiry, cas, resumeValue, resume))),
    getWithCas: (key) => callback((resume) => send(() => client.getWithCas(key, resumeOption, resume))),
    concat: (side, key, value) =>
      callback((resume) => send(() => client.concat(side, key, value, resumeValue, resume))),
    stats: callback((resume) => send(() => client.stats(resumeValue, resume))),
    writeMany: (entries, expiry) =>
      callback((resume) => send(() => client.writeMany(entries, expiry, resumeValue, resume))),
    delete: (key) => callback((resume) => send(() => client.delete(key, resumeValue, resume))),
    deleteMany: (keys) => callback((resume) => send(() => client.deleteMany(keys, resumeValue, resume))),
    touch: (key, expiry) => callback((resume) => send(() => client.touch(key, expiry, resumeValue, resume))),
    getAndTouch: (key, expiry) =>
      callback((resume) => send(() => client.getAndTouch(key, expiry, resumeOption, resume))),
    counter: (direction, key, delta, initial, expiry) =>
      callback((resume) => send(() => client.counter(direction, key, delta, initial, expiry, resumeValue, resume))),
    flush: callback((resume) => send(() => client.flush(resumeValue, resume))),
    version: callback((resume) => send(() => client.version(resumeValue, resume))),
    lease: lease &&
      ((key, expiry) => callback((resume) => send(() => lease(key, expiry, resumeValue, resume)))),
    invalidate: invalidate &&
      ((key) => callback((resume) => send(() => invalidate(key, resumeValue, resume)))),
    close: (graceMillis, destroy) => Effect.promise(() => client.close(graceMillis, destroy))
  }
}
