/**
 * Dead-server ejection: after `ejectAfter` consecutive transport failures a server is skipped for `deadMillis`;
 * then one request at a time is let through to try it again.
 *
 * @internal
 */

/** @internal */
export interface EjectionOptions {
  readonly ejectAfter: number
  readonly deadMillis: number
}

/** @internal One server's health. */
export interface Health {
  /** Whether a request may go to the server now; past the dead time, this lets one trial through. */
  readonly available: (now: number) => boolean
  /** When an ejected server will be tried again (epoch ms), or `undefined` while it is in the pool. */
  readonly ejectedUntil: () => number | undefined
  readonly succeeded: () => void
  /** Counts a transport failure; returns true when this one ejected the server. */
  readonly failed: (now: number) => boolean
}

/** @internal */
export const makeHealth = (options: EjectionOptions): Health => {
  let failures = 0
  let deadUntil: number | undefined
  let trialInFlight = false
  return {
    available: (now) => {
      if (deadUntil === undefined) return true
      if (now < deadUntil || trialInFlight) return false
      trialInFlight = true
      return true
    },
    ejectedUntil: () => deadUntil,
    succeeded: () => {
      failures = 0
      deadUntil = undefined
      trialInFlight = false
    },
    failed: (now) => {
      failures++
      const wasEjected = deadUntil !== undefined
      if (wasEjected || failures >= options.ejectAfter) {
        deadUntil = now + options.deadMillis
        trialInFlight = false
        return !wasEjected
      }
      return false
    }
  }
}
