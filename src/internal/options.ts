/**
 * The checks of the layers' options, shared by the layers (which fail with a `ConfigError`) and the Promise facade
 * (which throws a `TypeError` from its constructor). Each check gives the option's name and what is wrong with it,
 * with the fix, never throws, and never quotes a password.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import { DEFAULT_MAX_ITEM_SIZE } from "./itemSize.js"
import { checkPrefix } from "./keys.js"
import type { ServerAddress } from "./servers.js"
import { parseServers } from "./servers.js"
import type { Expiry } from "./ttl.js"
import { decodeWithUnits, toExpiry } from "./ttl.js"

/** @internal A bad option: its name, and the sentence a `TypeError` or a `ConfigError` says about it. */
export interface BadOption {
  readonly option: string
  readonly message: string
}

/** `reason` is a phrase to follow the option's name. */
const badOption = (option: string, reason: string): BadOption => ({ option, message: `${option} ${reason}` })

const bad = (option: string, reason: string): Either.Either<never, BadOption> => Either.left(badOption(option, reason))

const shownDuration = (duration: Duration.Duration) =>
  Duration.isFinite(duration) ? `${Duration.toMillis(duration)} ms` : "infinite"

/** A duration with its unit, or `fallback` when left out. */
const durationOption = (option: string, input: unknown, fallback: Duration.DurationInput) =>
  input === undefined
    ? Either.right(Duration.decode(fallback))
    : Either.mapLeft(decodeWithUnits(input), (reason) => badOption(option, reason))

/** @internal The store options, checked. */
export interface CheckedStoreOptions {
  readonly defaultExpiry: Expiry
  readonly maxItemSize: number
}

/** The options every store takes, as given: anything may have been forced past the types. */
interface StoreOptionsInput {
  readonly defaultTtl?: unknown
  readonly keyPrefix?: unknown
  readonly maxItemSize?: unknown
  readonly retry?: unknown
}

/** @internal The options every store takes: `defaultTtl`, `keyPrefix`, `maxItemSize`, `retry`. */
export const checkStoreOptions = (options: StoreOptionsInput): Either.Either<CheckedStoreOptions, BadOption> =>
  Either.gen(function*() {
    const defaultExpiry = options.defaultTtl === null
      ? toExpiry(null)
      : toExpiry(yield* durationOption("defaultTtl", options.defaultTtl, "300 seconds"))
    if (defaultExpiry._tag === "Expired") {
      return yield* bad(
        "defaultTtl",
        "is zero or negative, which would expire every write at once: give a positive duration, or null for never"
      )
    }
    const prefix = options.keyPrefix ?? ""
    if (typeof prefix !== "string") return yield* bad("keyPrefix", "must be a string")
    const prefixProblem = checkPrefix(prefix)
    if (prefixProblem) return yield* bad("keyPrefix", prefixProblem)
    const maxItemSize = options.maxItemSize ?? DEFAULT_MAX_ITEM_SIZE
    if (!(typeof maxItemSize === "number" && Number.isSafeInteger(maxItemSize) && maxItemSize > 1024)) {
      return yield* bad("maxItemSize", "must be a whole number of bytes, over 1024")
    }
    if (options.retry !== undefined && !Schedule.isSchedule(options.retry)) {
      return yield* bad("retry", "must be a Schedule")
    }
    return { defaultExpiry, maxItemSize }
  })

/** @internal The connection options, checked. */
export interface CheckedConnectionOptions extends CheckedStoreOptions {
  /** The deadline of each operation. */
  readonly deadlineMillis: number
  readonly ejectAfter: number
  /** How long an ejected server is skipped. */
  readonly deadMillis: number
}

const placements = new Set<unknown>(["ketama", "ketama-hashring", "modulo"])

/**
 * @internal The options of the layers over a memjs client: the store's, `timeout`, the pool's (`placement`,
 * `ejectAfter`, `ejectFor`) and the credentials.
 */
export const checkConnectionOptions = (
  options: StoreOptionsInput & {
    readonly timeout?: unknown
    readonly placement?: unknown
    readonly ejectAfter?: unknown
    readonly ejectFor?: unknown
    readonly username?: unknown
    readonly password?: unknown
  }
): Either.Either<CheckedConnectionOptions, BadOption> =>
  Either.gen(function*() {
    const store = yield* checkStoreOptions(options)
    const timeout = yield* durationOption("timeout", options.timeout, "1 second")
    const timeoutMillis = Duration.toMillis(timeout)
    if (!(timeoutMillis > 0 && Number.isFinite(timeoutMillis))) {
      return yield* bad("timeout", `must be a positive, finite duration, got ${shownDuration(timeout)}`)
    }
    const placement = options.placement
    if (!(placement === undefined || placements.has(placement) || typeof placement === "function")) {
      return yield* bad("placement", `must be "ketama", "ketama-hashring", "modulo" or a function`)
    }
    const ejectAfter = options.ejectAfter ?? 3
    if (!(typeof ejectAfter === "number" && ejectAfter >= 1)) {
      return yield* bad("ejectAfter", "must be a number of failures, 1 or more (Infinity never ejects)")
    }
    const ejectFor = yield* durationOption("ejectFor", options.ejectFor, "1 second")
    const deadMillis = Duration.toMillis(ejectFor)
    if (!Number.isFinite(deadMillis)) return yield* bad("ejectFor", "must be a finite duration")
    if (!(options.username === undefined || typeof options.username === "string")) {
      return yield* bad("username", "must be a string")
    }
    if (!(options.password === undefined || Redacted.isRedacted(options.password))) {
      return yield* bad("password", "must be a Redacted string (Redacted.make(password))")
    }
    return { ...store, deadlineMillis: Math.ceil(timeoutMillis), ejectAfter, deadMillis }
  })

/** @internal The `servers` option, parsed. */
export const checkServers = (servers: unknown): Either.Either<ReadonlyArray<ServerAddress>, BadOption> =>
  Either.mapLeft(parseServers(servers), (reason) => ({ option: "servers", message: `servers: ${reason}` }))
