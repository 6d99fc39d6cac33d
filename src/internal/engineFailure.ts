/**
 * The one boundary where the engine's failures become this line's errors: an `EngineFailure` is mapped to a
 * `MemcachedError` (once per failure, however many requests share it), and transport failures are logged at debug
 * level in the fiber of the first request they ended. Shared by both Effect lines: what differs between them comes from
 * `#effect-line`.
 *
 * @internal
 */
import { Effect, MemcachedError, whenDebugLogged } from "#effect-line"
import type { EngineFailure } from "../engine/failure.js"

const mapped = new WeakMap<EngineFailure, MemcachedError>()
const sentButUnanswered = new WeakSet<MemcachedError>()
const closedFailures = new WeakSet<MemcachedError>()

/** @internal The `MemcachedError` of an engine failure; the same one each time for the same failure. */
export const toMemcachedError = (failure: EngineFailure): MemcachedError => {
  let error = mapped.get(failure)
  if (error === undefined) {
    error = new MemcachedError({
      reason: failure.reason,
      server: failure.server,
      detail: failure.detail,
      cause: failure.cause
    })
    if (failure.mayHaveBeenApplied) sentButUnanswered.add(error)
    if (failure.closed) closedFailures.add(error)
    mapped.set(failure, error)
  }
  return error
}

/**
 * Whether a failed request had been written to the server, so that it may have been applied there: true after a
 * missed deadline or a reset on a live connection, false when the connection was refused or never came up.
 *
 * @internal
 */
export const mayHaveBeenApplied = (error: MemcachedError): boolean => sentButUnanswered.has(error)

/** @internal Whether a request failed because the layer was closed: sending it again cannot succeed. */
export const failedAsClosed = (error: MemcachedError): boolean => closedFailures.has(error)

/**
 * Transport failures go to the Effect logger at debug level, once per failure however many requests it ends (their
 * number is `requests`); memjs itself is always given a silent logger. Nothing is built when debug is off.
 */
const logFailure = (error: MemcachedError, requests: number) =>
  whenDebugLogged(
    Effect.logDebug("memcached request failed").pipe(
      Effect.annotateLogs({ server: error.server ?? "", reason: error.reason, detail: error.detail ?? "", requests })
    )
  )

/**
 * @internal A request's failure as an Effect; logged first when `report` says so (see the engine's `Done`: the first
 * of the requests a transport failure ended).
 */
export const failWith = (failure: EngineFailure, report?: number): Effect.Effect<never, MemcachedError> => {
  const error = toMemcachedError(failure)
  return report ? Effect.andThen(logFailure(error, report), Effect.fail(error)) : Effect.fail(error)
}

/** @internal A transport failure to log, with the number of requests it ended (see `failWith`). */
export type Reported = readonly [error: MemcachedError, requests: number]

/** @internal Logs transport failures as `failWith` does, in order, for a call that ran without a fiber of its own. */
export const logReported = (reported: ReadonlyArray<Reported>): Effect.Effect<void> =>
  Effect.forEach(reported, ([error, requests]) => logFailure(error, requests), { discard: true })
