/**
 * Dead-server ejection: after `ejectAfter` consecutive transport failures a server is skipped for `deadMillis`;
 * then one request at a time is let through to try it again.
 *
 * The trial is taken by the request that is sent, at the moment it is queued on the connection (`admit`), and given
 * back when that request settles, whichever way it settles (`release`): looking at a server's health (`available`,
 * as routing a batch's keys does) takes nothing, so a caller that looks and then sends nothing holds no trial.
 *
 * @internal
 */

/** @internal */
export interface EjectionOptions {
  readonly ejectAfter: number
  readonly deadMillis: number
}

/** @internal What `admit` decided. */
export const Admission = {
  /** The server is ejected, and not yet due for a trial or its trial is taken: send nothing. */
  Refused: 0,
  /** The server is in the pool. */
  Pool: 1,
  /** The request is the ejected server's trial; `release` gives it back when the request settles. */
  Trial: 2
} as const

/** @internal */
export type Admission = typeof Admission[keyof typeof Admission]

/** @internal One server's health. */
export interface Health {
  readonly ejectAfter: number
  /** Whether a request may go to the server now: it is in the pool, or due for a trial that nobody holds. */
  readonly available: (now: number) => boolean
  /** When an ejected server will be tried again (epoch ms), or `undefined` while it is in the pool. */
  readonly ejectedUntil: () => number | undefined
  /** Whether a trial request is in flight. */
  readonly trialInFlight: () => boolean
  /** Decides whether a request is sent; a `Trial` must be given back with `release` once the request settles. */
  readonly admit: () => Admission
  /** Gives back the trial taken by `admit`. */
  readonly release: () => void
  readonly succeeded: () => void
  /** Counts a transport failure at `now` (epoch ms); enough of them in a row eject the server. */
  readonly failed: (now: number) => void
}

/** @internal */
export const makeHealth = (options: EjectionOptions): Health => {
  let failures = 0
  let deadUntil: number | undefined
  let trial = false
  return {
    ejectAfter: options.ejectAfter,
    available: (now) => deadUntil === undefined || (now >= deadUntil && !trial),
    ejectedUntil: () => deadUntil,
    trialInFlight: () => trial,
    admit: () => {
      if (deadUntil === undefined) return Admission.Pool
      if (trial || Date.now() < deadUntil) return Admission.Refused
      trial = true
      return Admission.Trial
    },
    release: () => {
      trial = false
    },
    succeeded: () => {
      failures = 0
      deadUntil = undefined
    },
    failed: (now) => {
      failures++
      if (deadUntil !== undefined || failures >= options.ejectAfter) deadUntil = now + options.deadMillis
    }
  }
}
