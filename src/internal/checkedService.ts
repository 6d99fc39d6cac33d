/**
 * The shared rules in front of every backend: keys are checked and prefixed, TTLs normalised, values measured, all
 * before anything reaches a backend. Real memcached and the in-memory fake both sit behind this one function, so the
 * fake cannot drift from the real thing. Shared by both Effect lines: what differs between them comes from
 * `#effect-line`.
 *
 * @internal
 */
import type { Cause, InvalidKey, MetricTags, ObservabilityOptions, Outcome, Schedule } from "#effect-line"
import {
  catchAllCause,
  decodeTtl,
  defaultRetry,
  Effect,
  failureOf,
  firstFailure,
  InvalidArgument,
  isFailure,
  makeKeyEncoder,
  mapFailure,
  MemcachedError,
  Option,
  optionOf,
  stepper,
  succeed,
  successOf,
  ValueTooLarge,
  valueTooLarge
} from "#effect-line"
import type { EngineClient } from "../engine/client.js"
import { toUnsigned64 } from "../engine/counter.js"
import type { Done } from "../engine/failure.js"
import { DEFAULT_RESENDS, EngineFailure, resentByDefault } from "../engine/failure.js"
import type { LeaseAnswer, WriteMode } from "../engine/item.js"
import { Item, sizeOf, TextItem } from "../engine/item.js"
import { maxValueBytes, TooLarge } from "../engine/itemSize.js"
import type { KeyRules, WireKey } from "../engine/keys.js"
import type { ServerAddress } from "../engine/servers.js"
import { errorTypeOf } from "../engine/telemetry.js"
import type { Expiry } from "../engine/ttl.js"
import type { Backend } from "./backend.js"
import type { Reported } from "./engineFailure.js"
import { failedAsClosed, mayHaveBeenApplied, toMemcachedError } from "./engineFailure.js"
import type { CounterOptions, MemcachedService, ServerLease, WriteOptions } from "./memcachedService.js"
import { serverLeases } from "./memcachedService.js"
import type { PlainRecorder } from "./observability.js"
import { instrument, plainRecorders, plainStart } from "./observability.js"

/** @internal */
export interface CheckedServiceOptions extends KeyRules, ObservabilityOptions {
  /** The layer's `defaultTtl`, checked (see `options.ts`). */
  readonly defaultExpiry: Expiry
  readonly retry?: Schedule.Schedule<unknown, MemcachedError> | undefined
}

/**
 * @internal Why a `DirectService` call failed: its `error`, and whether that is a defect (something that threw, as `die`
 * would have it) rather than a failure.
 */
export class DirectFailure {
  constructor(readonly error: unknown, readonly defect: boolean) {}
}

/**
 * @internal How a `DirectService` call ends: with its value, or with `failure` (and no value); `reported` are the
 * transport failures on the way (its own, and those of attempts the retry sent again) that the Effect path would log.
 */
export type DirectDone<A> = (value: A | undefined, failure?: DirectFailure, reported?: ReadonlyArray<Reported>) => void

/**
 * @internal `get`, `getMany` and `set` of a checked service called without an Effect step of their own, by the Promise facade
 * (`facadeFastPath.ts`) and the `Cache` service's direct path (`cache/direct.ts`). `tags` are the metric tags the call
 * is recorded with (a fiber's, which only the caller's line can read).
 */
export interface DirectService {
  /** Whether the service traces (its `tracing` option): a caller whose tracer collects spans takes the Effect path. */
  readonly tracing: boolean
  /** The item at `key`, `undefined` for a miss. */
  readonly get: (key: string, tags: MetricTags, done: DirectDone<Item | undefined>) => void
  /** The items found of `keys`, by key, in one batch per server. */
  readonly getMany: (keys: Iterable<string>, tags: MetricTags, done: DirectDone<ReadonlyMap<string, Item>>) => void
  /**
   * Stores `item` at `key` for `ttl` as `WriteOptions` gives it (left out: the layer's default); its value is memcached's
   * answer to a `set`, always `true`.
   */
  readonly set: (key: string, item: Item, ttl: unknown, tags: MetricTags, done: DirectDone<boolean>) => void
}

/** @internal Each checked service's `DirectService`, over the engine (not the in-memory fake) with the default retry. */
export const directServices = new WeakMap<object, DirectService>()

/** A checked request, ready to send to the engine; it answers `done` with `call`. */
type Send<A> = (done: Done<A | TooLarge, DirectCall<A>>, call: DirectCall<A>) => ServerAddress | undefined

/** A failure that sending again may mend: not one of a closed layer. */
const retryable = (error: unknown): error is MemcachedError =>
  error instanceof MemcachedError && (error.reason === "Unavailable" || error.reason === "Timeout") &&
  !failedAsClosed(error)

/** A failed write that may have reached the server says so, and is never sent again. */
const markUnknownOutcome = (error: unknown) =>
  error instanceof MemcachedError && mayHaveBeenApplied(error)
    ? new MemcachedError({ ...error, outcomeUnknown: true })
    : error

/**
 * One call of a `DirectService`: its checked request, sent again as the default retry says (`DEFAULT_RESENDS` times,
 * after a failure `resentByDefault` accepts), measured by `recorder`, and how it ends (`settled`). Its state is one
 * object rather than closures: one is made per operation.
 */
class DirectCall<A> {
  readonly start: number
  request: Send<A> | undefined = undefined
  server: ServerAddress | undefined = undefined
  resends = 0
  /** While the request is being sent: an answer given then is settled once its server is known, as `send` does. */
  sending = false
  early: { readonly result: A | TooLarge | EngineFailure; readonly report: number | undefined } | undefined = undefined
  reported: Array<Reported> | undefined = undefined
  constructor(
    readonly name: string,
    /** How many keys a read's answer found; `undefined` for an operation that is no read. */
    readonly found: ((answer: A) => number) | undefined,
    readonly batch: ReadonlyArray<string> | undefined,
    readonly recorder: PlainRecorder | undefined,
    readonly tags: MetricTags,
    readonly settled: DirectDone<A>
  ) {
    this.start = recorder === undefined ? 0 : plainStart()
  }

  end(errorType: string | undefined, count: number | undefined) {
    this.recorder?.(this.name, this.start, this.server, count, errorType, this.tags, this.batch)
  }

  fail(error: unknown, defect = false) {
    this.end(defect ? "_OTHER" : errorTypeOf(error), undefined)
    this.settled(undefined, new DirectFailure(error, defect), this.reported)
  }

  send(request: Send<A>) {
    this.request = request
    this.sending = true
    this.server = request(answered, this) ?? this.server
    this.sending = false
    const early = this.early
    if (early !== undefined) {
      this.early = undefined
      this.settle(early.result, early.report)
    }
  }

  settle(result: A | TooLarge | EngineFailure, report: number | undefined) {
    if (result instanceof TooLarge) return this.fail(new ValueTooLarge(result))
    if (!(result instanceof EngineFailure)) {
      this.end(undefined, this.found?.(result))
      return this.settled(result, undefined, this.reported)
    }
    const error = toMemcachedError(result)
    if (report) (this.reported ??= []).push([error, report])
    if (this.resends === DEFAULT_RESENDS || !retryable(error) || !resentByDefault(error.reason)) return this.fail(error)
    this.resends++
    this.send(this.request!)
  }
}

/** How many keys a single-key read found. */
const foundOne = (item: Item | undefined) => item === undefined ? 0 : 1

/** How many keys a batch read found. */
const foundSome = (items: ReadonlyArray<Item | undefined>) => {
  let found = 0
  for (const item of items) if (item !== undefined) found++
  return found
}

/** The items a batch read found, by key, from its answer in the order of `wire`. */
const byKey = (wire: ReadonlyArray<WireKey>, found: ReadonlyArray<Item | undefined>): Map<string, Item> => {
  const items = new Map<string, Item>()
  for (let i = 0; i < wire.length; i++) {
    const item = found[i]
    if (item) items.set(wire[i]!.key, item)
  }
  return items
}

/** The engine's answer to a `DirectCall`'s request. */
const answered = <A>(call: DirectCall<A>, result: A | TooLarge | EngineFailure, report?: number): void => {
  if (call.sending) call.early = { result, report }
  else call.settle(result, report)
}

/**
 * @internal Builds the `Memcached` service over a backend: the shared rules, then one span and the metrics per public
 * operation (`instrument`).
 */
export const makeCheckedService = (backend: Backend, options: CheckedServiceOptions): MemcachedService => {
  const encodeKey = makeKeyEncoder(options)
  const retry = options.retry ?? defaultRetry
  /** Runs `effect` again as `retry` says, after its first failure `cause`, if that failure is retryable. */
  const retryAfter = <A, E>(effect: Effect.Effect<A, E>, cause: Cause.Cause<E>): Effect.Effect<A, E> => {
    const first = firstFailure(cause)
    if (!retryable(first)) return Effect.failCause(cause)
    return Effect.flatMap(stepper(retry), (step) => {
      const again = (error: MemcachedError): Effect.Effect<A, E> =>
        Effect.matchEffect(step(error), {
          onFailure: () => Effect.fail(error as E),
          onSuccess: () => Effect.catchIf(effect, (e: E) => retryable(e), (e) => again(e as MemcachedError))
        })
      return again(first)
    })
  }
  /**
   * For operations that may safely be sent twice. The schedule is started only after a first retryable failure, and
   * the common path pays for one handler, not `catchIf`'s two.
   */
  const idempotent = <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, E> =>
    catchAllCause(effect, (cause) => retryAfter(effect, cause))
  /** For operations that may not: never retried, and an unknown outcome is said. */
  const once = <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, E> =>
    Effect.mapError(effect, (error) => markUnknownOutcome(error) as E)
  const defaultExpiry = succeed(options.defaultExpiry)
  /** A write's TTL (left out: the layer's default), or `InvalidArgument` for one without units. */
  const expiryOf = (ttl: unknown, key?: string): Outcome<Expiry, InvalidArgument> =>
    ttl === undefined
      ? defaultExpiry
      : mapFailure(decodeTtl(ttl), (reason) => new InvalidArgument({ argument: "ttl", reason, key }))
  /**
   * The key is checked when the operation is built, not in an `Effect.suspend` of its own: a bad key is an Effect
   * that fails with nothing sent, and anything else that throws while building is a defect of the Effect, as it
   * would be inside `suspend`.
   */
  const withKey = <A, E, R>(key: string, f: (wire: WireKey) => Effect.Effect<A, E, R>) => {
    try {
      const wire = encodeKey(key)
      return isFailure(wire) ? Effect.fail(failureOf(wire)) as Effect.Effect<A, E | InvalidKey, R> : f(successOf(wire))
    } catch (defect) {
      return Effect.die(defect)
    }
  }
  /** `keys` checked, each once, in order, or the error of the first that is no key. */
  const encodeKeys = (keys: Iterable<string>): ReadonlyArray<WireKey> | InvalidKey => {
    const wire: Array<WireKey> = []
    const seen = new Set<string>()
    for (const key of keys) {
      const encoded = encodeKey(key)
      if (isFailure(encoded)) return failureOf(encoded)
      if (!seen.has(successOf(encoded).text)) {
        seen.add(successOf(encoded).text)
        wire.push(successOf(encoded))
      }
    }
    return wire
  }
  const withKeys = <A, E, R>(keys: Iterable<string>, f: (wire: ReadonlyArray<WireKey>) => Effect.Effect<A, E, R>) =>
    Effect.suspend((): Effect.Effect<A, E | InvalidKey, R> => {
      const wire = encodeKeys(keys)
      return Array.isArray(wire) ? f(wire) : Effect.fail(wire as InvalidKey)
    })
  /** The error for a value of `size` bytes that cannot fit in one item under `wire`, or `undefined` when it fits. */
  const tooLarge = (wire: WireKey, size: number) =>
    size > maxValueBytes(backend.maxItemSize, wire.size)
      ? valueTooLarge(backend.maxItemSize, wire, size)
      : undefined
  /**
   * A write of `item` under `wire`: `write` of it and its expiry, or the error that stops it with nothing sent. A
   * `TextItem` goes as it is, so that its text is encoded into the request; any other item with its flags as memcached
   * keeps them (unsigned 32-bit).
   */
  const checkWrite = <R>(
    wire: WireKey,
    key: string,
    item: Item,
    ttl: unknown,
    write: (item: Item, expiry: Expiry) => R
  ): R | InvalidArgument | ValueTooLarge => {
    const error = tooLarge(wire, sizeOf(item))
    if (error) return error
    const expiry = expiryOf(ttl, key)
    if (isFailure(expiry)) return failureOf(expiry)
    const flags = item.flags >>> 0
    return write(
      item instanceof TextItem || flags === item.flags ? item : new Item(item.value, flags),
      successOf(expiry)
    )
  }
  const writeOne = (mode: WriteMode, cas?: bigint) => (key: string, value: Uint8Array, options?: WriteOptions) =>
    withKey(key, (wire): Effect.Effect<boolean, InvalidArgument | ValueTooLarge | MemcachedError> => {
      const given = new Item(value, (options?.flags ?? 0) >>> 0)
      const checked = checkWrite(wire, key, given, options?.ttl, (item, expiry) => {
        const write = backend.write(mode, wire, item, expiry, cas)
        return mode === "set" && cas === undefined ? idempotent(write) : once(write)
      })
      return checked instanceof InvalidArgument || checked instanceof ValueTooLarge ? Effect.fail(checked) : checked
    })
  const concat = (side: "append" | "prepend") => (key: string, value: Uint8Array) =>
    withKey(key, (wire) => {
      const error = tooLarge(wire, value.length)
      return error ? Effect.fail(error) : once(backend.concat(side, wire, value))
    })
  const getWire = (wire: WireKey) => idempotent(backend.get(wire))
  const getWithCas = (key: string) => withKey(key, (wire) => idempotent(backend.getWithCas(wire)))
  const update = (
    key: string,
    f: (current: Option.Option<Item>) => Item,
    options?: WriteOptions & { readonly attempts?: number | undefined }
  ) => {
    const attempts = options?.attempts ?? 10
    const expiry = expiryOf(options?.ttl, key)
    if (isFailure(expiry)) return Effect.fail(failureOf(expiry))
    const attempt = (
      left: number
    ): Effect.Effect<Item, InvalidKey | InvalidArgument | ValueTooLarge | MemcachedError> =>
      Effect.flatMap(getWithCas(key), (current) => {
        const next = f(Option.map(current, ({ flags, value }) => new Item(value, flags)))
        const write = { ttl: options?.ttl, flags: next.flags }
        return Effect.flatMap(
          Option.isSome(current)
            ? writeOne("set", current.value.cas)(key, next.value, write)
            : writeOne("add")(key, next.value, write),
          (stored) => {
            if (stored) return Effect.succeed(next)
            if (left > 1) return attempt(left - 1)
            return Effect.fail(
              new MemcachedError({
                reason: "Protocol",
                detail: `update of ${JSON.stringify(key)} kept conflicting (${attempts} attempts)`
              })
            )
          }
        )
      })
    return attempt(attempts)
  }
  const counter = (direction: "increment" | "decrement") =>
  (
    key: string,
    delta: bigint | number = 1n,
    options?: CounterOptions
  ) =>
    withKey(key, (wire): Effect.Effect<Option.Option<bigint>, InvalidArgument | MemcachedError> => {
      const invalid = (argument: string, reason: string) => Effect.fail(new InvalidArgument({ argument, reason, key }))
      const initial = options?.initial === undefined ? undefined : toUnsigned64(options.initial)
      if (typeof initial === "string") return invalid("initial", initial)
      const by = toUnsigned64(delta)
      if (typeof by === "string") return invalid("delta", by)
      const expiry = expiryOf(options?.ttl, key)
      if (isFailure(expiry)) return Effect.fail(failureOf(expiry))
      return Effect.map(
        once(backend.counter(direction, wire, by, initial, successOf(expiry))),
        optionOf
      )
    })
  /**
   * `get` and `set` without an Effect, over the engine: the same checks as `withKey` and `writeOne`, `idempotent`
   * under the default retry (the engine's `DEFAULT_RESENDS` and `resentByDefault`, as `defaultRetry`), and the same
   * metrics.
   */
  const makeDirect = (engine: EngineClient, recorder: PlainRecorder | undefined): DirectService => {
    /** A call of `name` on `subject`, whose request `check` makes (or refuses with the error that stops it). */
    const call = <S, A>(
      name: string,
      subject: S,
      check: (subject: S) => Send<A> | InvalidKey | InvalidArgument | ValueTooLarge,
      found: ((answer: A) => number) | undefined,
      batch: ReadonlyArray<string> | undefined,
      tags: MetricTags,
      settled: DirectDone<A>
    ): void => {
      const made = new DirectCall(name, found, batch, recorder, tags, settled)
      let checked: Send<A> | InvalidKey | InvalidArgument | ValueTooLarge
      try {
        checked = check(subject)
      } catch (defect) {
        return made.fail(defect, true)
      }
      if (typeof checked !== "function") return made.fail(checked)
      made.send(checked)
    }
    const getOne = (key: string): Send<Item | undefined> | InvalidKey => {
      const wire = encodeKey(key)
      return isFailure(wire)
        ? failureOf(wire)
        : (done, context) => engine.get(successOf(wire), done, context)
    }
    return {
      tracing: options.tracing ?? true,
      get: (key, tags, done) => call("get", key, getOne, foundOne, undefined, tags, done),
      getMany: (keys, tags, done) => {
        const batch = Array.from(keys)
        let wire: ReadonlyArray<WireKey> = []
        const check = (): Send<Array<Item | undefined>> | InvalidKey => {
          const checked = encodeKeys(batch)
          if (!Array.isArray(checked)) return checked as InvalidKey
          wire = checked
          return (done, context) => engine.getMany(wire, done, context)
        }
        call(
          "getMany",
          batch,
          check,
          foundSome,
          batch,
          tags,
          (found, failure, reported) => done(found && byKey(wire, found), failure, reported)
        )
      },
      set: (key, item, ttl, tags, done) =>
        call(
          "set",
          key,
          (key) => {
            const wire = encodeKey(key)
            return isFailure(wire) ? failureOf(wire) : checkWrite(successOf(wire), key, item, ttl, (
              written,
              expiry
            ): Send<boolean> =>
            (done, context) => engine.write("set", successOf(wire), written, expiry, undefined, done, context))
          },
          undefined,
          undefined,
          tags,
          done
        )
    }
  }
  const service: MemcachedService = {
    get: (key) => withKey(key, getWire),
    getMany: (keys) =>
      withKeys(keys, (wire) => Effect.map(idempotent(backend.getMany(wire)), (found) => byKey(wire, found))),
    set: (key, value, options) => Effect.asVoid(writeOne("set")(key, value, options)),
    add: writeOne("add"),
    replace: writeOne("replace"),
    setMany: (entries, options) =>
      Effect.suspend(() => {
        const items = new Map<string, Item>()
        for (const [key, item] of entries) items.set(key, item)
        return withKeys(items.keys(), (wire): Effect.Effect<void, InvalidArgument | ValueTooLarge | MemcachedError> => {
          const pairs = wire.map((key) => [key, items.get(key.key)!] as const)
          for (const [key, item] of pairs) {
            const error = tooLarge(key, item.value.length)
            if (error) return Effect.fail(error)
          }
          const expiry = expiryOf(options?.ttl)
          if (isFailure(expiry)) return Effect.fail(failureOf(expiry))
          return idempotent(backend.writeMany(
            pairs.map(([key, item]) => [key, new Item(item.value, item.flags >>> 0)]),
            successOf(expiry)
          ))
        })
      }),
    delete: (key) => withKey(key, (wire) => idempotent(backend.delete(wire))),
    deleteMany: (keys) => withKeys(keys, (wire) => idempotent(backend.deleteMany(wire))),
    touch: (key, ttl) =>
      withKey(key, (wire): Effect.Effect<boolean, InvalidArgument | MemcachedError> => {
        const expiry = expiryOf(ttl, key)
        return isFailure(expiry) ? Effect.fail(failureOf(expiry)) : idempotent(backend.touch(wire, successOf(expiry)))
      }),
    getAndTouch: (key, ttl) =>
      withKey(key, (wire): Effect.Effect<Option.Option<Item>, InvalidArgument | MemcachedError> => {
        const expiry = expiryOf(ttl, key)
        return isFailure(expiry)
          ? Effect.fail(failureOf(expiry))
          : idempotent(backend.getAndTouch(wire, successOf(expiry)))
      }),
    increment: counter("increment"),
    decrement: counter("decrement"),
    append: concat("append"),
    prepend: concat("prepend"),
    getWithCas,
    compareAndSet: (key, value, cas, options) => writeOne("set", cas)(key, value, options),
    update,
    stats: idempotent(backend.stats),
    flush: idempotent(backend.flush),
    version: idempotent(backend.version)
  }
  const instrumented = instrument(service, options)
  if (backend.engine !== undefined && options.retry === undefined) {
    const { engine } = backend
    directServices.set(instrumented, makeDirect(engine, plainRecorders.get(instrumented)))
  }
  const { invalidate, lease } = backend
  if (lease && invalidate) {
    const leases: ServerLease = {
      // A lease read that may have won is never sent again: its second read would wait for its own placeholder.
      getWithLease: (key, ttl) =>
        withKey(key, (wire): Effect.Effect<LeaseAnswer, InvalidArgument | MemcachedError> => {
          const expiry = expiryOf(ttl, key)
          return isFailure(expiry) ? Effect.fail(failureOf(expiry)) : once(lease(wire, successOf(expiry)))
        }),
      invalidate: (key) => withKey(key, (wire) => idempotent(invalidate(wire)))
    }
    // Traced and measured as the service's own operations; `getWithLease` is a read (a hit or a miss).
    serverLeases.set(instrumented, instrument(leases, options))
  }
  return instrumented
}
