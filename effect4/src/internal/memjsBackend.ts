/**
 * The real backend: the engine's client of memcached servers (`engine/client.ts`), each of its callbacks resumed as an
 * `Effect.callback`. Its failures become `MemcachedError`s here (`engineFailure.ts`), a value the server finds too large
 * `ValueTooLarge`, and each request's server is told to its observed call (`observability.ts`).
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import type { EngineClient } from "../../../src/engine/client.js"
import { EngineFailure } from "../../../src/engine/failure.js"
import type { Item } from "../../../src/engine/item.js"
import { TooLarge } from "../../../src/engine/itemSize.js"
import type { ServerAddress } from "../../../src/engine/servers.js"
import { ValueTooLarge } from "../errors/ValueTooLarge.js"
import type { MemjsBackend } from "./backend.js"
import { failWith } from "./engineFailure.js"
import { callOf } from "./observability.js"

/** An `Effect.callback` resume; each operation's own type (see `Backend`) says what it resumes with. */
type Resume = (effect: Effect.Effect<any, any>) => void

/**
 * Tells the fiber's observed call, if any, which server its request went to (see `Call`). It runs inside
 * `Effect.callback`'s register, where the fiber that runs it is the current one: no `withFiber` step.
 */
const sentTo = (server: ServerAddress | undefined): void => {
  if (server === undefined) return
  const fiber = Fiber.getCurrent()
  if (fiber !== undefined) callOf(fiber)?.sent(server)
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
    get: (key) => Effect.callback((resume) => sentTo(client.get(key, resumeOption, resume))),
    getMany: (keys) => Effect.callback((resume) => sentTo(client.getMany(keys, resumeValue, resume))),
    write: (mode, key, item, expiry, cas) =>
      Effect.callback((resume) => sentTo(client.write(mode, key, item, expiry, cas, resumeValue, resume))),
    getWithCas: (key) => Effect.callback((resume) => sentTo(client.getWithCas(key, resumeOption, resume))),
    concat: (side, key, value) =>
      Effect.callback((resume) => sentTo(client.concat(side, key, value, resumeValue, resume))),
    stats: Effect.callback((resume) => sentTo(client.stats(resumeValue, resume))),
    writeMany: (entries, expiry) =>
      Effect.callback((resume) => sentTo(client.writeMany(entries, expiry, resumeValue, resume))),
    delete: (key) => Effect.callback((resume) => sentTo(client.delete(key, resumeValue, resume))),
    deleteMany: (keys) => Effect.callback((resume) => sentTo(client.deleteMany(keys, resumeValue, resume))),
    touch: (key, expiry) => Effect.callback((resume) => sentTo(client.touch(key, expiry, resumeValue, resume))),
    getAndTouch: (key, expiry) =>
      Effect.callback((resume) => sentTo(client.getAndTouch(key, expiry, resumeOption, resume))),
    counter: (direction, key, delta, initial, expiry) =>
      Effect.callback((resume) => sentTo(client.counter(direction, key, delta, initial, expiry, resumeValue, resume))),
    flush: Effect.callback((resume) => sentTo(client.flush(resumeValue, resume))),
    version: Effect.callback((resume) => sentTo(client.version(resumeValue, resume))),
    lease: lease && ((key, expiry) => Effect.callback((resume) => sentTo(lease(key, expiry, resumeValue, resume)))),
    invalidate: invalidate && ((key) => Effect.callback((resume) => sentTo(invalidate(key, resumeValue, resume)))),
    close: (graceMillis, destroy) => Effect.promise(() => client.close(graceMillis, destroy))
  }
}
