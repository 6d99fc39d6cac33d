/**
 * The real backend: the engine's client of memcached servers (`engine/client.ts`), each of its callbacks resumed as an
 * `Effect.async`. Its failures become `MemcachedError`s here (`engineFailure.ts`), a value the server finds too large
 * `ValueTooLarge`, and each request's server is told to its observed call (`observability.ts`).
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import type { EngineClient } from "../engine/client.js"
import { EngineFailure } from "../engine/failure.js"
import type { Item } from "../engine/item.js"
import { TooLarge } from "../engine/itemSize.js"
import type { ServerAddress } from "../engine/servers.js"
import { ValueTooLarge } from "../errors/ValueTooLarge.js"
import type { MemjsBackend } from "./backend.js"
import { failWith } from "./engineFailure.js"
import { callOf } from "./observability.js"

/** An `Effect.async` resume; each operation's own type (see `Backend`) says what it resumes with. */
type Resume = (effect: Effect.Effect<any, any>) => void

/**
 * Sends a request from the caller's async context, and tells the fiber's observed call, if any, which server it went
 * to (see `Call`). It runs inside `Effect.async`'s register, where the fiber that runs it is the current one.
 */
const send = (request: () => ServerAddress | undefined): void => {
  const fiber = Fiber.getCurrentFiber()
  const call = Option.isSome(fiber) ? callOf(fiber.value) : undefined
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
    get: (key) => Effect.async((resume) => send(() => client.get(key, resumeOption, resume))),
    getMany: (keys) => Effect.async((resume) => send(() => client.getMany(keys, resumeValue, resume))),
    write: (mode, key, item, expiry, cas) =>
      Effect.async((resume) => send(() => client.write(mode, key, item, expiry, cas, resumeValue, resume))),
    getWithCas: (key) => Effect.async((resume) => send(() => client.getWithCas(key, resumeOption, resume))),
    concat: (side, key, value) =>
      Effect.async((resume) => send(() => client.concat(side, key, value, resumeValue, resume))),
    stats: Effect.async((resume) => send(() => client.stats(resumeValue, resume))),
    writeMany: (entries, expiry) =>
      Effect.async((resume) => send(() => client.writeMany(entries, expiry, resumeValue, resume))),
    delete: (key) => Effect.async((resume) => send(() => client.delete(key, resumeValue, resume))),
    deleteMany: (keys) => Effect.async((resume) => send(() => client.deleteMany(keys, resumeValue, resume))),
    touch: (key, expiry) => Effect.async((resume) => send(() => client.touch(key, expiry, resumeValue, resume))),
    getAndTouch: (key, expiry) =>
      Effect.async((resume) => send(() => client.getAndTouch(key, expiry, resumeOption, resume))),
    counter: (direction, key, delta, initial, expiry) =>
      Effect.async((resume) => send(() => client.counter(direction, key, delta, initial, expiry, resumeValue, resume))),
    flush: Effect.async((resume) => send(() => client.flush(resumeValue, resume))),
    version: Effect.async((resume) => send(() => client.version(resumeValue, resume))),
    lease: lease &&
      ((key, expiry) => Effect.async((resume) => send(() => lease(key, expiry, resumeValue, resume)))),
    invalidate: invalidate &&
      ((key) => Effect.async((resume) => send(() => invalidate(key, resumeValue, resume)))),
    close: (graceMillis, destroy) => Effect.promise(() => client.close(graceMillis, destroy))
  }
}
