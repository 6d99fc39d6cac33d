/**
 * The `Cache` contract: every behaviour DESIGN.md promises, run against any layer that provides `Cache` and
 * `Memcached`. `test/contract.memory.test.ts` runs it on the in-memory fake (TestClock), `test/contract.live.test.ts`
 * on a real memcached (live clock), so the fake is proven faithful. The Effect 4 line runs the same suite
 * (`effect4/test/contract.*.test.ts`): everything line-specific comes from `#line`, this line's `test/support/line.ts`
 * or that line's `effect4/test/support/line.ts`, and the body is written in the API both lines share.
 */
import {
  assert,
  assertNone,
  assertSome,
  Cache,
  CacheNotFound,
  Data,
  Deferred,
  Duration,
  type DurationInput,
  Effect,
  Fiber,
  fork,
  InvalidArgument,
  InvalidKey,
  isWaiting,
  type Layer,
  layerSuite,
  Memcached,
  MemcachedError,
  Option,
  PositiveNumber,
  Ref,
  Schema,
  SerializationError,
  TestClock,
  type Ttl,
  ValueTooLarge
} from "#line"

export interface ContractOptions {
  /** `true`: real servers, live clock (`Effect.sleep`); `false`: TestClock (`TestClock.adjust`). */
  readonly live: boolean
  /** The layer's `keyPrefix`; the 250-byte key limit counts it. @default "" */
  readonly keyPrefix?: string | undefined
  /** Run the tests that wait for TTLs to pass (seconds of wall time when `live`). @default true */
  readonly sleeps?: boolean | undefined
}

class Boom extends Data.TaggedError("Boom")<{ readonly n: number }> {}

const MAX_KEY_BYTES = 250
const MAX_ITEM_SIZE = 1024 * 1024
const DAY = 24 * 60 * 60

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString("utf8")
const bytes = (value: string): Uint8Array => Buffer.from(value, "utf8")

/** The value of a `Memcached` item as text, `undefined` on a miss. */
const itemText = (item: Option.Option<{ readonly value: Uint8Array }>): string | undefined =>
  Option.match(item, { onNone: () => undefined, onSome: (i) => text(i.value) })

const itemLength = (item: Option.Option<{ readonly value: Uint8Array }>): number | undefined =>
  Option.match(item, { onNone: () => undefined, onSome: (i) => i.value.length })

export const cacheContract = (
  name: string,
  layer: Layer.Layer<Cache | Memcached, unknown>,
  opts: ContractOptions
): void => {
  const advance = (d: DurationInput) => opts.live ? Effect.sleep(d) : TestClock.adjust(d)
  /** Only under TestClock: jumps that a live suite cannot wait for (days, minutes). */
  const jump = (d: DurationInput) => opts.live ? Effect.void : TestClock.adjust(d)
  const run = Math.random().toString(36).slice(2, 8)
  const key = (label: string) => `${run}-${label}`
  const keyBudget = MAX_KEY_BYTES - Buffer.byteLength(opts.keyPrefix ?? "", "utf8")
  const sleeps = opts.sleeps ?? true
  /** Sleeping tests run side by side on a live server; under TestClock they must not share clock jumps. */
  const sleepy = { concurrent: opts.live, timeout: 15_000 }

  layerSuite(layer, { excludeTestServices: opts.live })(name, (it) => {
    // ---------------------------------------------------------------- get / getOrElse / getOrFail / has
    it.effect("get: a hit gives the stored value, a miss none", () =>
      Effect.gen(function*() {
        const cache = yield* Cache
        yield* cache.set(key("get-hit"), { a: 1, b: ["x", "y"], c: "héllo" })
        assertSome(yield* cache.get(key("get-hit")), { a: 1, b: ["x", "y"], c: "héllo" })
        assertNone(yield* cache.get(key("get-miss")))
      }))

    it.effect("getOrElse: the stored value on a hit, orElse() (evaluated only on a miss) otherwise", () =>
      Effect.gen(function*() {
        const cache = yield* Cache
        let calls = 0
        const orElse = () => {
          calls++
          return "fallback"
        }
        yield* cache.set(key("goe"), "stored")
        assert.strictEqual(yield* cache.getOrElse(key("goe"), orElse), "stored")
        assert.strictEqual(calls, 0)
        assert.strictEqual(yield* cache.getOrElse(key("goe-miss"), orElse), "fallback")
        assert.strictEqual(calls, 1)
      }))

    it.effect("getOrFail: the value on a hit, CacheNotFound carrying the key on a miss", () =>
      Effect.gen(function*() {
        const cache = yield* Cache
        yield* cache.set(key("gof"), 42)
        assert.strictEqual(yield* cache.getOrFail(key("gof")), 42)
        const error = yield* Effect.flip(cache.getOrFail(key("gof-miss")))
        assert.instanceOf(error, CacheNotFound)
        assert.strictEqual(error._tag, "CacheNotFound")
        assert.strictEqual(error.key, key("gof-miss"))
      }))

    it.effect("has: true for a stored key, false for a missing or removed one", () =>
      Effect.gen(function*() {
        const cache = yield* Cache
        yield* cache.set(key("has"), "v")
        assert.isTrue(yield* cache.has(key("has")))
        assert.isFalse(yield* cache.has(key("has-miss")))
        yield* cache.remove(key("has"))
        assert.isFalse(yield* cache.has(key("has")))
      }))

    // ---------------------------------------------------------------- set and TTL rules
    it.effect("set overwrites the previous value", () =>
      Effect.gen(function*() {
        const cache = yield* Cache
        yield* cache.set(key("overwrite"), "one")
        yield* cache.set(key("overwrite"), "two")
        assertSome(yield* cache.get(key("overwrite")), "two")
      }))

    it.effect("set without ttl uses the default ttl (300 s): readable, and gone after 300 s", () =>
      Effect.gen(function*() {
        const cache = yield* Cache
        yield* cache.set(key("default-ttl"), "v")
        assertSome(yield* cache.get(key("default-ttl")), "v")
        if (!opts.live) {
          yield* TestClock.adjust("298 seconds")
          assertSome(yield* cache.get(key("default-ttl")), "v")
          yield* TestClock.adjust("3 seconds")
          assertNone(yield* cache.get(key("default-ttl")))
        }
      }))

    it.effect("set with an explicit ttl is readable right after", () =>
      Effect.gen(function*() {
        const cache = yield* Cache
        yield* cache.set(key("ttl-explicit"), "v", { ttl: "10 seconds" })
        yield* cache.set(key("ttl-duration"), "d", { ttl: Duration.seconds(10) })
        assertSome(yield* cache.get(key("ttl-explicit")), "v")
        assertSome(yield* cache.get(key("ttl-duration")), "d")
        if (!opts.live) {
          yield* TestClock.adjust("12 seconds")
          assertNone(yield* cache.get(key("ttl-explicit")))
          assertNone(yield* cache.get(key("ttl-duration")))
        }
      }))

    it.effect("set with ttl null (and Duration.infinity) never expires", () =>
      Effect.gen(function*() {
        const cache = yield* Cache
        yield* cache.set(key("ttl-null"), "forever", { ttl: null })
        yield* cache.set(key("ttl-inf"), "forever", { ttl: Duration.infinity })
        assertSome(yield* cache.get(key("ttl-null")), "forever")
        assertSome(yield* cache.get(key("ttl-inf")), "forever")
        yield* jump("400 days")
        assertSome(yield* cache.get(key("ttl-null")), "forever")
        assertSome(yield* cache.get(key("ttl-inf")), "forever")
      }))

    it.effect("set with a zero or negative ttl leaves nothing readable (and drops the previous value)", () =>
      Effect.gen(function*() {
        const cache = yield* Cache
        const ttls = [["zero", Duration.zero], ["zero-str", "0 seconds"], ["zero-hr", [0, 0]], [
          "neg-str",
          "-5 seconds"
        ]] as const
        for (const [label, ttl] of ttls) {
          yield* cache.set(key(`ttl-${label}`), "previous", { ttl: null })
          assertSome(yield* cache.get(key(`ttl-${label}`)), "previous")
          yield* cache.set(key(`ttl-${label}`), "v", { ttl })
          assertNone(yield* cache.get(key(`ttl-${label}`)))
          assert.isFalse(yield* cache.has(key(`ttl-${label}`)), label)
        }
      }))

    it.effect("a sub-second ttl rounds up: 500 ms (and 1 ms) is still readable right after set", () =>
      Effect.gen(function*() {
        const cache = yield* Cache
        // memcached's clock ticks once a second, and a 1 s item dies at the next tick, which may fall between the
        // set and the get; two ticks cannot, so one retry tells "rounded up" from "expired at once".
        const readableRightAfter = (k: string, ttl: Ttl) =>
          Effect.gen(function*() {
            for (let attempt = 0; attempt < 2; attempt++) {
              yield* cache.set(k, attempt, { ttl })
              const got = yield* cache.get(k)
              if (Option.isSome(got)) return got.value
            }
            return undefined
          })
        assert.strictEqual(yield* readableRightAfter(key("ttl-500ms"), "500 millis"), 0)
        assert.strictEqual(yield* readableRightAfter(key("ttl-1ms"), "1 millis"), 0)
        if (!opts.live) {
          yield* TestClock.adjust("1 second")
          assertNone(yield* cache.get(key("ttl-500ms")))
          assertNone(yield* cache.get(key("ttl-1ms")))
        }
      }))

    it.effect("ttls over 30 days (31 and 60 days) are readable right after set: sent as absolute times", () =>
      Effect.gen(function*() {
        const cache = yield* Cache
        yield* cache.set(key("ttl-30d"), "30", { ttl: Duration.days(30) })
        yield* cache.set(key("ttl-31d"), "31", { ttl: Duration.days(31) })
        yield* cache.set(key("ttl-60d"), "60", { ttl: "60 days" })
        yield* cache.set(key("ttl-huge"), "huge", { ttl: Duration.days(365 * 50) })
        assertSome(yield* cache.get(key("ttl-30d")), "30")
        assertSome(yield* cache.get(key("ttl-31d")), "31")
        assertSome(yield* cache.get(key("ttl-60d")), "60")
        assertSome(yield* cache.get(key("ttl-huge")), "huge")
        if (!opts.live) {
          yield* TestClock.adjust(Duration.seconds(31 * DAY - 2))
          assertNone(yield* cache.get(key("ttl-30d")))
          assertSome(yield* cache.get(key("ttl-31d")), "31")
          assertSome(yield* cache.get(key("ttl-60d")), "60")
          yield* TestClock.adjust(Duration.seconds(29 * DAY - 2))
          assertNone(yield* cache.get(key("ttl-31d")))
          assertSome(yield* cache.get(key("ttl-60d")), "60")
          yield* TestClock.adjust("5 seconds")
          assertNone(yield* cache.get(key("ttl-60d")))
          assertSome(yield* cache.get(key("ttl-huge")), "huge")
        }
      }))

    // ---------------------------------------------------------------- units: no bare numbers in the Effect API
    /** A failure that must be `InvalidArgument` for `argument`, whose message says how to write 300 with a unit. */
    const assertNeedsUnits = (error: unknown, argument = "ttl") => {
      assert.instanceOf(error, InvalidArgument)
      const invalid = error as InvalidArgument
      assert.strictEqual(invalid.argument, argument)
      assert.include(invalid.message, `write "300 seconds" or Duration.seconds(300)`)
    }

    it.effect("Cache: a bare-number ttl is a type error; forced through, InvalidArgument with the fix", () =>
      Effect.gen(function*() {
        const cache = yield* Cache
        const computed = yield* Ref.make(0)
        const compute = Effect.as(Ref.update(computed, (n) => n + 1), "computed")
        // @ts-expect-error a bare number has no unit
        assertNeedsUnits(yield* Effect.flip(cache.set(key("units-set"), "v", { ttl: 300 })))
        // @ts-expect-error a bigint is a bare number too (Effect reads it as nanoseconds)
        assertNeedsUnits(yield* Effect.flip(cache.set(key("units-set"), "v", { ttl: 300n })))
        // @ts-expect-error a bare number has no unit
        assertNeedsUnits(yield* Effect.flip(cache.setMany([[key("units-many"), "v"]], { ttl: 300 })))
        // @ts-expect-error a bare number has no unit
        assertNeedsUnits(yield* Effect.flip(cache.getOrSet(key("units-gos"), compute, { ttl: 300 })))
        const memo = cache.cached((n: number) => Effect.as(compute, n), {
          key: key("units-cached"),
          // @ts-expect-error a bare number has no unit
          ttl: 300
        })
        assertNeedsUnits(yield* Effect.flip(memo(1)))
        const typed = cache.typed(Schema.Number)
        // @ts-expect-error a bare number has no unit
        assertNeedsUnits(yield* Effect.flip(typed.set(key("units-typed"), 1, { ttl: 300 })))
        assert.strictEqual(yield* Ref.get(computed), 0, "nothing was computed")
        for (const label of ["units-set", "units-many", "units-gos", "units-cached", "units-typed"]) {
          assert.isFalse(yield* cache.has(key(label)), label)
        }
        // On a hit too: getOrSet checks its options first. updateTimeout leaves the key and its TTL alone.
        yield* cache.set(key("units-hit"), "kept", { ttl: "1 minute" })
        // @ts-expect-error a bare number has no unit
        assertNeedsUnits(yield* Effect.flip(cache.getOrSet(key("units-hit"), compute, { ttl: 300 })))
        // @ts-expect-error a bare number has no unit
        assertNeedsUnits(yield* Effect.flip(cache.updateTimeout(key("units-hit"), 300)))
        assertSome(yield* cache.get(key("units-hit")), "kept")
        if (!opts.live) {
          yield* TestClock.adjust("61 seconds")
          assertNone(yield* cache.get(key("units-hit")))
        }
      }))

    it.effect("Memcached: every operation that takes a ttl refuses a bare number with InvalidArgument", () =>
      Effect.gen(function*() {
        const memcached = yield* Memcached
        const k = key("units-mc")
        yield* memcached.set(k, bytes("1"), { ttl: "1 minute" })
        const cas = Option.getOrThrow(yield* memcached.getWithCas(k)).cas
        const ops = [
          // @ts-expect-error a bare number has no unit
          memcached.set(key("units-mc-set"), bytes("v"), { ttl: 300 }),
          // @ts-expect-error a bare number has no unit
          memcached.add(key("units-mc-add"), bytes("v"), { ttl: 300 }),
          // @ts-expect-error a bare number has no unit
          memcached.replace(k, bytes("v"), { ttl: 300 }),
          // @ts-expect-error a bare number has no unit
          memcached.setMany([[key("units-mc-many"), { value: bytes("v"), flags: 0 }]], { ttl: 300 }),
          // @ts-expect-error a bare number has no unit
          memcached.touch(k, 300),
          // @ts-expect-error a bare number has no unit
          memcached.getAndTouch(k, 300),
          // @ts-expect-error a bare number has no unit
          memcached.increment(key("units-mc-counter"), 1, { initial: 5, ttl: 300 }),
          // @ts-expect-error a bare number has no unit
          memcached.decrement(key("units-mc-counter"), 1, { initial: 5, ttl: 300 }),
          // @ts-expect-error a bare number has no unit
          memcached.compareAndSet(k, bytes("v"), cas, { ttl: 300 }),
          // @ts-expect-error a bare number has no unit
          memcached.update(key("units-mc-update"), () => ({ value: bytes("v"), flags: 0 }), { ttl: 300 })
        ]
        for (const op of ops) assertNeedsUnits(yield* Effect.flip(op as Effect.Effect<unknown, unknown>))
        for (const label of ["units-mc-set", "units-mc-add", "units-mc-many", "units-mc-counter", "units-mc-update"]) {
          assertNone(yield* memcached.get(key(label)))
        }
        assert.strictEqual(itemText(yield* memcached.get(k)), "1", "the value and its CAS are unchanged")
        assert.strictEqual(Option.getOrThrow(yield* memcached.getWithCas(k)).cas, cas)
      }))

    it.effect("getOrSet: lease durations need units too, and must be usable", () =>
      Effect.gen(function*() {
        const cache = yield* Cache
        const compute = Effect.succeed("v")
        // @ts-expect-error a bare number has no unit
        const wait = yield* Effect.flip(cache.getOrSet(key("units-lease"), compute, { lease: { wait: 300 } }))
        assertNeedsUnits(wait, "lease.wait")
        // @ts-expect-error a bare number has no unit
        const hold = yield* Effect.flip(cache.getOrSet(key("units-lease"), compute, { lease: { ttl: 300 } }))
        assertNeedsUnits(hold, "lease.ttl")
        const poll = yield* Effect.flip(cache.getOrSet(key("units-lease"), compute, { lease: { poll: Duration.zero } }))
        assert.instanceOf(poll, InvalidArgument)
        assert.strictEqual((poll as InvalidArgument).argument, "lease.poll")
        assert.isFalse(yield* cache.has(key("units-lease")))
        assert.strictEqual(yield* cache.getOrSet(key("units-lease"), compute, { lease: { wait: "1 second" } }), "v")
      }))

    it.effect("counters: a delta or initial that is not a whole number from 0 to 2^64-1 is InvalidArgument", () =>
      Effect.gen(function*() {
        const memcached = yield* Memcached
        const k = key("units-delta")
        for (
          const [delta, options, argument] of [
            [-1, undefined, "delta"],
            [1.5, undefined, "delta"],
            [1n << 64n, undefined, "delta"],
            ["1" as unknown as number, undefined, "delta"],
            [1, { initial: -5 }, "initial"]
          ] as const
        ) {
          const error = yield* Effect.flip(memcached.increment(k, delta, options))
          assert.instanceOf(error, InvalidArgument)
          assert.strictEqual((error as InvalidArgument).argument, argument)
          assert.strictEqual((error as InvalidArgument).key, k)
        }
        assertNone(yield* memcached.get(k))
      }))

    // ---------------------------------------------------------------- remove
    it.effect("remove: true only if every key existed; all are removed either way", () =>
      Effect.gen(function*() {
        const cache = yield* Cache
        yield* cache.setMany([[key("rm-a"), 1], [key("rm-b"), 2], [key("rm-c"), 3]])
        assert.isTrue(yield* cache.remove(key("rm-a"), key("rm-b")))
        assertNone(yield* cache.get(key("rm-a")))
        assertNone(yield* cache.get(key("rm-b")))

        assert.isFalse(yield* cache.remove(key("rm-c"), key("rm-missing")))
        assertNone(yield* cache.get(key("rm-c")))

        assert.isFalse(yield* cache.remove(key("rm-a")), "already removed")
      }))

    it.effect("remove: a single key, and duplicate keys count once", () =>
      Effect.gen(function*() {
        const cache = yield* Cache
        yield* cache.set(key("rm-one"), "v")
        assert.isTrue(yield* cache.remove(key("rm-one")))
        assertNone(yield* cache.get(key("rm-one")))
        assert.isFalse(yield* cache.remove(key("rm-one")))

        yield* cache.set(key("rm-dup"), "v")
        assert.isTrue(yield* cache.remove(key("rm-dup"), key("rm-dup")))
        assertNone(yield* cache.get(key("rm-dup")))

        yield* cache.set(key("rm-dup2"), "v")
        assert.isFalse(yield* cache.remove(key("rm-dup2"), key("rm-dup2"), key("rm-dup-missing")))
        assertNone(yield* cache.get(key("rm-dup2")))
      }))

    // ---------------------------------------------------------------- updateTimeout
    it.effect("updateTimeout returns the value; a miss is CacheNotFound", () =>
      Effect.gen(function*() {
        const cache = yield* Cache
        yield* cache.set(key("ut"), { v: [1, 2, 3] }, { ttl: "10 seconds" })
        assert.deepStrictEqual(yield* cache.updateTimeout(key("ut"), "20 seconds"), { v: [1, 2, 3] })
        assert.deepStrictEqual(yield* cache.updateTimeout(key("ut")), { v: [1, 2, 3] })
        const error = yield* Effect.flip(cache.updateTimeout(key("ut-miss"), "20 seconds"))
        assert.instanceOf(error, CacheNotFound)
        assert.strictEqual(error.key, key("ut-miss"))
        assertNone(yield* cache.get(key("ut-miss")))
      }))

    it.effect("updateTimeout without a ttl gives the key the default ttl (300 s) from now", () =>
      Effect.gen(function*() {
        const cache = yield* Cache
        yield* cache.set(key("ut-default"), "v", { ttl: "10 seconds" })
        assert.strictEqual(yield* cache.updateTimeout(key("ut-default")), "v")
        assertSome(yield* cache.get(key("ut-default")), "v")
        if (!opts.live) {
          yield* TestClock.adjust("12 seconds")
          assertSome(yield* cache.get(key("ut-default")), "v")
          yield* TestClock.adjust("290 seconds")
          assertNone(yield* cache.get(key("ut-default")))
        }
      }))

    it.effect("updateTimeout with ttl 0 expires the key at once", () =>
      Effect.gen(function*() {
        const cache = yield* Cache
        yield* cache.set(key("ut-zero"), "v", { ttl: "1 minute" })
        assert.strictEqual(yield* cache.updateTimeout(key("ut-zero"), Duration.zero), "v")
        assertNone(yield* cache.get(key("ut-zero")))
      }))

    // ---------------------------------------------------------------- getOrSet
    it.effect("getOrSet: a miss computes and stores, a hit does not compute", () =>
      Effect.gen(function*() {
        const cache = yield* Cache
        const calls = yield* Ref.make(0)
        const compute = Effect.as(Ref.update(calls, (n) => n + 1), { computed: true })
        assert.deepStrictEqual(yield* cache.getOrSet(key("gos"), compute), { computed: true })
        assert.strictEqual(yield* Ref.get(calls), 1)
        assertSome(yield* cache.get(key("gos")), { computed: true })
        assert.deepStrictEqual(yield* cache.getOrSet(key("gos"), compute), { computed: true })
        assert.strictEqual(yield* Ref.get(calls), 1)

        yield* cache.set(key("gos-preset"), "preset")
        assert.strictEqual<unknown>(yield* cache.getOrSet(key("gos-preset"), compute), "preset")
        assert.strictEqual(yield* Ref.get(calls), 1)
      }))

    it.effect("getOrSet stores with the given ttl", () =>
      Effect.gen(function*() {
        const cache = yield* Cache
        assert.strictEqual(yield* cache.getOrSet(key("gos-ttl0"), Effect.succeed("v"), { ttl: "0 seconds" }), "v")
        assertNone(yield* cache.get(key("gos-ttl0")))
        assert.strictEqual(yield* cache.getOrSet(key("gos-ttl"), Effect.succeed("w"), { ttl: "10 seconds" }), "w")
        assertSome(yield* cache.get(key("gos-ttl")), "w")
        if (!opts.live) {
          yield* TestClock.adjust("12 seconds")
          assertNone(yield* cache.get(key("gos-ttl")))
        }
      }))

    it.effect("getOrSet: concurrent callers of one key compute once and all get its value", () =>
      Effect.gen(function*() {
        const cache = yield* Cache
        const calls = yield* Ref.make(0)
        const gate = yield* Deferred.make<void>()
        const compute = Ref.updateAndGet(calls, (n) => n + 1).pipe(
          Effect.tap(() => Deferred.await(gate)),
          Effect.map((n) => ({ n }))
        )
        const fibers = yield* Effect.forEach(
          Array.from({ length: 8 }),
          () => fork(cache.getOrSet(key("gos-flight"), compute))
        )
        yield* advance("200 millis")
        assert.strictEqual(yield* Ref.get(calls), 1, "one compute runs while the gate is closed")
        for (const fiber of fibers) {
          assert.isTrue(yield* isWaiting(fiber), "every caller waits on the one compute")
        }
        yield* Deferred.succeed(gate, undefined)
        const results = yield* Effect.forEach(fibers, Fiber.join)
        assert.deepStrictEqual(results, Array.from({ length: 8 }, () => ({ n: 1 })))
        assert.strictEqual(yield* Ref.get(calls), 1)
        assertSome(yield* cache.get(key("gos-flight")), { n: 1 })
      }))

    it.effect("getOrSet: a failing compute fails every waiter, stores nothing, and the next call computes again", () =>
      Effect.gen(function*() {
        const cache = yield* Cache
        const calls = yield* Ref.make(0)
        const gate = yield* Deferred.make<void>()
        const failing = Ref.updateAndGet(calls, (n) => n + 1).pipe(
          Effect.tap(() => Deferred.await(gate)),
          Effect.flatMap((n) => Effect.fail(new Boom({ n })))
        )
        const fibers = yield* Effect.forEach(
          Array.from({ length: 5 }),
          () => fork(cache.getOrSet(key("gos-fail"), failing))
        )
        yield* advance("200 millis")
        assert.strictEqual(yield* Ref.get(calls), 1)
        yield* Deferred.succeed(gate, undefined)
        for (const fiber of fibers) {
          const error = yield* Effect.flip(Fiber.join(fiber))
          assert.instanceOf(error, Boom)
          assert.strictEqual((error as Boom).n, 1)
        }
        assert.strictEqual(yield* Ref.get(calls), 1)
        assertNone(yield* cache.get(key("gos-fail")))

        const again = yield* cache.getOrSet(key("gos-fail"), Effect.as(Ref.update(calls, (n) => n + 1), "ok"))
        assert.strictEqual(again, "ok")
        assert.strictEqual(yield* Ref.get(calls), 2)
        assertSome(yield* cache.get(key("gos-fail")), "ok")
      }))

    it.effect("getOrSet caches falsy values (0, \"\", false, null) and returns them", () =>
      Effect.gen(function*() {
        const cache = yield* Cache
        const calls = yield* Ref.make(0)
        for (const [label, value] of [["zero", 0], ["empty", ""], ["false", false], ["null", null]] as const) {
          const compute = Effect.as(Ref.update(calls, (n) => n + 1), value)
          assert.strictEqual(yield* cache.getOrSet(key(`falsy-${label}`), compute), value, label)
          assert.strictEqual(yield* cache.getOrSet(key(`falsy-${label}`), compute), value, label)
          assertSome(yield* cache.get(key(`falsy-${label}`)), value)
          assert.isTrue(yield* cache.has(key(`falsy-${label}`)), label)
          assert.strictEqual(yield* cache.getOrFail(key(`falsy-${label}`)), value, label)
        }
        assert.strictEqual(yield* Ref.get(calls), 4, "each falsy value computed once")
      }))

    // ---------------------------------------------------------------- getMany / setMany
    it.effect("getMany: hits only, for thousands of keys in any order", () =>
      Effect.gen(function*() {
        const cache = yield* Cache
        const n = 2000
        const entries = Array.from({ length: n }, (_, i) => [key(`many-${i}`), { i, s: `v${i}` }] as const)
        yield* cache.setMany(entries, { ttl: "10 minutes" })
        const missing = Array.from({ length: 500 }, (_, i) => key(`many-missing-${i}`))
        const asked = [...entries.map(([k]) => k).reverse(), ...missing]
        // interleave: a deterministic shuffle of hits and misses
        const shuffled = asked
          .map((k, i) => [k, (i * 7919) % asked.length] as const)
          .sort((a, b) => a[1] - b[1])
          .map(([k]) => k)
        const found = yield* cache.getMany(shuffled)
        assert.strictEqual(found.size, n)
        for (const [k, v] of entries) assert.deepStrictEqual(found.get(k), v)
        for (const k of missing) assert.isFalse(found.has(k))
        const forward = yield* cache.getMany(entries.map(([k]) => k))
        assert.deepStrictEqual(forward, found)
      }))

    it.effect("getMany: duplicate keys, empty input, all misses", () =>
      Effect.gen(function*() {
        const cache = yield* Cache
        yield* cache.set(key("gm-a"), "a")
        yield* cache.set(key("gm-b"), "b")
        const found = yield* cache.getMany([key("gm-a"), key("gm-a"), key("gm-b"), key("gm-miss"), key("gm-b")])
        assert.deepStrictEqual(found, new Map([[key("gm-a"), "a"], [key("gm-b"), "b"]]))
        assert.strictEqual((yield* cache.getMany([])).size, 0)
        assert.strictEqual((yield* cache.getMany([key("gm-miss"), key("gm-miss2")])).size, 0)
        // any iterable
        const fromSet = yield* cache.getMany(new Set([key("gm-a"), key("gm-b")]))
        assert.deepStrictEqual(fromSet, new Map([[key("gm-a"), "a"], [key("gm-b"), "b"]]))
      }))

    it.effect("setMany with a ttl, then getMany reads all back; empty setMany is a no-op", () =>
      Effect.gen(function*() {
        const cache = yield* Cache
        const entries = [[key("sm-1"), 1], [key("sm-2"), "two"], [key("sm-3"), [3]], [key("sm-4"), null]] as const
        yield* cache.setMany(entries, { ttl: "30 seconds" })
        const found = yield* cache.getMany(entries.map(([k]) => k))
        assert.deepStrictEqual(found, new Map<string, unknown>(entries))
        yield* cache.setMany([])
        yield* cache.setMany([[key("sm-dup"), "first"], [key("sm-dup"), "last"]])
        assertSome(yield* cache.get(key("sm-dup")), "last")
        if (!opts.live) {
          yield* TestClock.adjust("32 seconds")
          assert.strictEqual((yield* cache.getMany(entries.map(([k]) => k))).size, 0)
        }
      }))

    // ---------------------------------------------------------------- typed(schema)
    it.effect("typed(schema): round-trips values of the schema", () =>
      Effect.gen(function*() {
        const cache = yield* Cache
        const User = Schema.Struct({ id: Schema.Number, name: Schema.String, tags: Schema.Array(Schema.String) })
        const users = cache.typed(User)
        const alice = { id: 1, name: "alice", tags: ["a", "b"] }
        yield* users.set(key("typed-user"), alice)
        assertSome(yield* users.get(key("typed-user")), alice)
        assert.deepStrictEqual(yield* users.getOrFail(key("typed-user")), alice)
        assert.instanceOf(yield* Effect.flip(users.getOrFail(key("typed-miss"))), CacheNotFound)
        const bob = { id: 2, name: "bob", tags: [] }
        assert.deepStrictEqual(yield* users.getOrSet(key("typed-gos"), Effect.succeed(bob)), bob)
        yield* users.setMany([[key("typed-m1"), alice], [key("typed-m2"), bob]])
        assert.deepStrictEqual(
          yield* users.getMany([key("typed-m1"), key("typed-m2"), key("typed-miss")]),
          new Map([[key("typed-m1"), alice], [key("typed-m2"), bob]])
        )
        assert.deepStrictEqual(yield* users.updateTimeout(key("typed-user"), "1 minute"), alice)
      }))

    it.effect("typed(schema): a stored value of another shape is a SerializationError (decode)", () =>
      Effect.gen(function*() {
        const cache = yield* Cache
        const Point = Schema.Struct({ x: Schema.Number, y: Schema.Number })
        yield* cache.set(key("typed-bad"), { x: "one", z: 2 })
        const points = cache.typed(Point)
        const error = yield* Effect.flip(points.get(key("typed-bad")))
        assert.instanceOf(error, SerializationError)
        assert.strictEqual(error._tag, "SerializationError")
        if (error._tag === "SerializationError") {
          assert.strictEqual(error.key, key("typed-bad"))
          assert.strictEqual(error.direction, "decode")
        }
        assert.instanceOf(yield* Effect.flip(points.getOrFail(key("typed-bad"))), SerializationError)
        assert.instanceOf(yield* Effect.flip(points.getMany([key("typed-bad")])), SerializationError)
        assert.instanceOf(yield* Effect.flip(points.updateTimeout(key("typed-bad"), "1 minute")), SerializationError)
        // the raw value is untouched
        assertSome(yield* cache.get(key("typed-bad")), { x: "one", z: 2 })
      }))

    it.effect("typed(schema): values are encoded through a transforming schema", () =>
      Effect.gen(function*() {
        const cache = yield* Cache
        const dates = cache.typed(Schema.DateFromString)
        const date = new Date("2024-02-29T12:34:56.789Z")
        yield* dates.set(key("typed-date"), date)
        assertSome(yield* cache.get(key("typed-date")), "2024-02-29T12:34:56.789Z")
        const back = yield* dates.getOrFail(key("typed-date"))
        assert.instanceOf(back, Date)
        assert.strictEqual(back.getTime(), date.getTime())

        const numbers = cache.typed(Schema.NumberFromString)
        yield* numbers.set(key("typed-num"), 42.5)
        assertSome(yield* cache.get(key("typed-num")), "42.5")
        assertSome(yield* numbers.get(key("typed-num")), 42.5)
        const computed = yield* dates.getOrSet(key("typed-date-gos"), Effect.succeed(new Date(0)))
        assert.strictEqual(computed.getTime(), 0)
        assertSome(yield* cache.get(key("typed-date-gos")), "1970-01-01T00:00:00.000Z")
        yield* cache.set(key("typed-num-raw"), "17")
        assertSome(yield* numbers.get(key("typed-num-raw")), 17)
      }))

    it.effect("typed(schema): a value the schema rejects is a SerializationError (encode) and nothing is stored", () =>
      Effect.gen(function*() {
        const cache = yield* Cache
        const positives = cache.typed(PositiveNumber)
        const error = yield* Effect.flip(positives.set(key("typed-enc"), -1))
        assert.instanceOf(error, SerializationError)
        if (error._tag === "SerializationError") {
          assert.strictEqual(error.direction, "encode")
          assert.strictEqual(error.key, key("typed-enc"))
        }
        assertNone(yield* cache.get(key("typed-enc")))
      }))

    // ---------------------------------------------------------------- key rules
    const badKeys: ReadonlyArray<readonly [string, string]> = [
      ["empty", ""],
      ["space", "has space"],
      ["newline", "has\nnewline"],
      ["tab", "has\ttab"],
      ["control", "bell\u0007"],
      ["251 bytes", "k".repeat(251)],
      ["63 emoji (252 bytes)", "😀".repeat(63)],
      ["lone surrogate", "lone\uD800surrogate"]
    ]
    for (const [label, bad] of badKeys) {
      it.effect(`invalid key (${label}): InvalidKey from get, set, remove and getMany`, () =>
        Effect.gen(function*() {
          const cache = yield* Cache
          const good = key(`bad-batch-${label.replace(/\W+/g, "-")}`)
          const check = (error: unknown) => {
            assert.instanceOf(error, InvalidKey)
            assert.strictEqual((error as InvalidKey).key, bad)
            assert.isNotEmpty((error as InvalidKey).reason)
          }
          check(yield* Effect.flip(cache.get(bad)))
          check(yield* Effect.flip(cache.set(bad, "v")))
          check(yield* Effect.flip(cache.remove(bad)))
          check(yield* Effect.flip(cache.getMany([bad])))
          check(yield* Effect.flip(cache.getOrFail(bad)))
          check(yield* Effect.flip(cache.has(bad)))
          check(yield* Effect.flip(cache.updateTimeout(bad, "1 minute")))
          check(yield* Effect.flip(cache.setMany([[bad, "v"]])))
          check(yield* Effect.flip(cache.getOrSet(bad, Effect.succeed("v"))))
          // one bad key fails the whole batch, before anything is sent
          yield* cache.set(good, "kept")
          check(yield* Effect.flip(cache.getMany([good, bad])))
          check(yield* Effect.flip(cache.remove(good, bad)))
          assertSome(yield* cache.get(good), "kept")
        }))
    }

    const lengthTitle = `${keyBudget} ASCII bytes work, ${keyBudget + 1} fail`
    it.effect(`key length counts UTF-8 bytes (prefix included): ${lengthTitle}`, () =>
      Effect.gen(function*() {
        const cache = yield* Cache
        const fits = run + "a".repeat(keyBudget - run.length)
        const over = run + "b".repeat(keyBudget + 1 - run.length)
        assert.strictEqual(Buffer.byteLength(fits), keyBudget)
        yield* cache.set(fits, "fits")
        assertSome(yield* cache.get(fits), "fits")
        assert.deepStrictEqual(yield* cache.getMany([fits]), new Map([[fits, "fits"]]))
        assert.isTrue(yield* cache.remove(fits))
        const error = yield* Effect.flip(cache.set(over, "over"))
        assert.instanceOf(error, InvalidKey)
      }))

    const emojiFit = Math.floor(keyBudget / 4)
    const emojiTitle = `${emojiFit} emoji (${emojiFit * 4} bytes) work as a key, ` +
      `${emojiFit + 1} (${(emojiFit + 1) * 4} bytes) do not`
    it.effect(emojiTitle, () =>
      Effect.gen(function*() {
        const cache = yield* Cache
        const fits = "😀".repeat(emojiFit)
        const over = "😀".repeat(emojiFit + 1)
        yield* cache.set(fits, "emoji")
        assertSome(yield* cache.get(fits), "emoji")
        assert.deepStrictEqual(yield* cache.getMany([fits]), new Map([[fits, "emoji"]]))
        assert.isTrue(yield* cache.remove(fits))
        assertNone(yield* cache.get(fits))
        const error = yield* Effect.flip(cache.get(over))
        assert.instanceOf(error, InvalidKey)
        assert.strictEqual(error.key, over)
      }))

    it.effect("unicode keys that are not whitespace work, and distinct keys stay distinct", () =>
      Effect.gen(function*() {
        const cache = yield* Cache
        yield* cache.set(key("ключ-é"), "cyrillic")
        yield* cache.set(key("ключ-e\u0301"), "combining")
        assertSome(yield* cache.get(key("ключ-é")), "cyrillic")
        assertSome(yield* cache.get(key("ключ-e\u0301")), "combining")
      }))

    // ---------------------------------------------------------------- size limit
    it.effect("a value over the size limit is ValueTooLarge and the previous value stays", () =>
      Effect.gen(function*() {
        const cache = yield* Cache
        const k = key("too-large")
        yield* cache.set(k, "previous")
        const error = yield* Effect.flip(cache.set(k, "x".repeat(2 * MAX_ITEM_SIZE)))
        assert.instanceOf(error, ValueTooLarge)
        if (error._tag === "ValueTooLarge") {
          assert.strictEqual(error.key, k)
          assert.isAtLeast(error.size, 2 * MAX_ITEM_SIZE)
          assert.isBelow(error.limit, MAX_ITEM_SIZE)
          assert.isAbove(error.limit, MAX_ITEM_SIZE - 1024)
        }
        assertSome(yield* cache.get(k), "previous")
        const many = yield* Effect.flip(
          cache.setMany([[key("too-large-ok"), "ok"], [k, "y".repeat(2 * MAX_ITEM_SIZE)]])
        )
        assert.instanceOf(many, ValueTooLarge)
        assertSome(yield* cache.get(k), "previous")
      }))

    it.effect("Memcached: a value of exactly the limit is stored; one byte more is ValueTooLarge { size, limit }", () =>
      Effect.gen(function*() {
        const memcached = yield* Memcached
        const k = key("size-edge")
        const probe = yield* Effect.flip(memcached.set(k, new Uint8Array(2 * MAX_ITEM_SIZE)))
        assert.instanceOf(probe, ValueTooLarge)
        if (probe._tag !== "ValueTooLarge") return
        assert.strictEqual(probe.size, 2 * MAX_ITEM_SIZE)
        assert.strictEqual(probe.key, k)
        const limit = probe.limit
        assert.isBelow(limit, MAX_ITEM_SIZE - Buffer.byteLength((opts.keyPrefix ?? "") + k))
        assert.isAbove(limit, MAX_ITEM_SIZE - 1024)

        const exact = new Uint8Array(limit).fill(7)
        yield* memcached.set(k, exact, { ttl: "1 minute" })
        const got = yield* memcached.get(k)
        assert.isTrue(Option.isSome(got))
        if (Option.isSome(got)) {
          assert.strictEqual(got.value.value.length, limit)
          assert.strictEqual(got.value.value[limit - 1], 7)
        }
        const over = yield* Effect.flip(memcached.set(k, new Uint8Array(limit + 1)))
        assert.instanceOf(over, ValueTooLarge)
        if (over._tag === "ValueTooLarge") {
          assert.strictEqual(over.size, limit + 1)
          assert.strictEqual(over.limit, limit)
        }
        assert.strictEqual(itemLength(yield* memcached.get(k)), limit)
        assert.isTrue(yield* memcached.delete(k))
      }))

    // ---------------------------------------------------------------- Memcached-level operations
    it.effect("Memcached.add stores only when the key is absent", () =>
      Effect.gen(function*() {
        const memcached = yield* Memcached
        assert.isTrue(yield* memcached.add(key("add"), bytes("first")))
        assert.isFalse(yield* memcached.add(key("add"), bytes("second")))
        assert.strictEqual(itemText(yield* memcached.get(key("add"))), "first")
      }))

    it.effect("Memcached.replace stores only when the key is present", () =>
      Effect.gen(function*() {
        const memcached = yield* Memcached
        assert.isFalse(yield* memcached.replace(key("replace"), bytes("nope")))
        assertNone(yield* memcached.get(key("replace")))
        yield* memcached.set(key("replace"), bytes("old"))
        assert.isTrue(yield* memcached.replace(key("replace"), bytes("new")))
        assert.strictEqual(itemText(yield* memcached.get(key("replace"))), "new")
      }))

    it.effect("Memcached.delete: true when the key existed", () =>
      Effect.gen(function*() {
        const memcached = yield* Memcached
        yield* memcached.set(key("del"), bytes("v"))
        assert.isTrue(yield* memcached.delete(key("del")))
        assert.isFalse(yield* memcached.delete(key("del")))
        assertNone(yield* memcached.get(key("del")))
        yield* memcached.set(key("del-m1"), bytes("v"))
        assert.strictEqual(yield* memcached.deleteMany([key("del-m1"), key("del-m1"), key("del-m2")]), 1)
      }))

    it.effect("Memcached.touch and getAndTouch: true / the item when present, false / none when missing", () =>
      Effect.gen(function*() {
        const memcached = yield* Memcached
        yield* memcached.set(key("touch"), bytes("t"), { flags: 5 })
        assert.isTrue(yield* memcached.touch(key("touch"), "1 minute"))
        assert.isFalse(yield* memcached.touch(key("touch-miss"), "1 minute"))
        const item = yield* memcached.getAndTouch(key("touch"), "1 minute")
        assert.strictEqual(itemText(item), "t")
        assert.strictEqual(Option.getOrThrow(item).flags, 5)
        assertNone(yield* memcached.getAndTouch(key("touch-miss"), "1 minute"))
        assertNone(yield* memcached.get(key("touch-miss")))
        assert.isTrue(yield* memcached.touch(key("touch"), Duration.zero))
        assertNone(yield* memcached.get(key("touch")))
      }))

    it.effect("Memcached flags round-trip through set/get (full 32 bits)", () =>
      Effect.gen(function*() {
        const memcached = yield* Memcached
        for (const flags of [0, 1, 0xdead_beef, 0xffff_ffff]) {
          yield* memcached.set(key(`flags-${flags}`), bytes(`f${flags}`), { flags })
          const item = Option.getOrThrow(yield* memcached.get(key(`flags-${flags}`)))
          assert.strictEqual(item.flags, flags)
          assert.strictEqual(text(item.value), `f${flags}`)
          const many = yield* memcached.getMany([key(`flags-${flags}`)])
          assert.strictEqual(many.get(key(`flags-${flags}`))?.flags, flags)
        }
        yield* memcached.set(key("flags-default"), bytes("d"))
        assert.strictEqual(Option.getOrThrow(yield* memcached.get(key("flags-default"))).flags, 0)
      }))

    it.effect("Memcached bytes are stored exactly (all 256 byte values, empty value)", () =>
      Effect.gen(function*() {
        const memcached = yield* Memcached
        const all = Uint8Array.from({ length: 512 }, (_, i) => i & 0xff)
        yield* memcached.set(key("bytes-all"), all)
        const item = Option.getOrThrow(yield* memcached.get(key("bytes-all")))
        assert.isTrue(Buffer.from(item.value).equals(Buffer.from(all)))
        yield* memcached.set(key("bytes-empty"), new Uint8Array(0))
        assert.strictEqual(Option.getOrThrow(yield* memcached.get(key("bytes-empty"))).value.length, 0)
      }))

    it.effect("increment: exact above 2^32 (initial 4294967295 + 1 = 4294967296), wraps at 2^64", () =>
      Effect.gen(function*() {
        const memcached = yield* Memcached
        const k = key("incr")
        assertSome(yield* memcached.increment(k, 1n, { initial: 4294967295n }), 4294967295n)
        assertSome(yield* memcached.increment(k, 1n), 4294967296n)
        assertSome(yield* memcached.increment(k, 10), 4294967306n)
        assertSome(yield* memcached.increment(k), 4294967307n)
        assert.strictEqual(itemText(yield* memcached.get(k)), "4294967307")

        // Wraps at 2^64. The stored value stays below 2^63: memcached 1.6.18 may refuse to parse a stored value of
        // 2^63 or more ("non-numeric") when a "-" lingers in the item's slab chunk (an unbounded strchr).
        yield* memcached.set(key("incr-wrap"), bytes("9223372036854775807"))
        assertSome(yield* memcached.increment(key("incr-wrap"), (1n << 63n) + 6n), 5n)
        // memcached may space-pad a counter that lost digits in place (its documented optimisation)
        assert.strictEqual(itemText(yield* memcached.get(key("incr-wrap")))?.trimEnd(), "5")
        yield* memcached.set(key("incr-big"), bytes("9007199254740993"))
        assertSome(yield* memcached.increment(key("incr-big"), 2n), 9007199254740995n)
      }))

    it.effect("decrement clamps at 0", () =>
      Effect.gen(function*() {
        const memcached = yield* Memcached
        const k = key("decr")
        yield* memcached.set(k, bytes("5"))
        assertSome(yield* memcached.decrement(k, 2n), 3n)
        assertSome(yield* memcached.decrement(k, 10n), 0n)
        assertSome(yield* memcached.decrement(k), 0n)
        assert.strictEqual(itemText(yield* memcached.get(k)), "0")
        assertSome(yield* memcached.decrement(key("decr-init"), 1n, { initial: 7n }), 7n)
        assertSome(yield* memcached.decrement(key("decr-init"), 1n), 6n)
      }))

    it.effect("increment / decrement on a missing key without initial: none, and the key stays missing", () =>
      Effect.gen(function*() {
        const memcached = yield* Memcached
        assertNone(yield* memcached.increment(key("ctr-miss"), 1n))
        assertNone(yield* memcached.decrement(key("ctr-miss"), 1n))
        assertNone(yield* memcached.get(key("ctr-miss")))
      }))

    it.effect("increment / decrement on a non-numeric value: MemcachedError Protocol, value unchanged", () =>
      Effect.gen(function*() {
        const memcached = yield* Memcached
        const k = key("ctr-text")
        yield* memcached.set(k, bytes("abc"))
        const inc = yield* Effect.flip(memcached.increment(k, 1n))
        assert.instanceOf(inc, MemcachedError)
        assert.strictEqual((inc as MemcachedError).reason, "Protocol")
        const dec = yield* Effect.flip(memcached.decrement(k, 1n))
        assert.instanceOf(dec, MemcachedError)
        assert.strictEqual((dec as MemcachedError).reason, "Protocol")
        assert.strictEqual(itemText(yield* memcached.get(k)), "abc")
      }))

    it.effect("Cache and Memcached share one store (same keys, same prefix)", () =>
      Effect.gen(function*() {
        const cache = yield* Cache
        const memcached = yield* Memcached
        yield* cache.set(key("shared"), "v")
        assert.isTrue(Option.isSome(yield* memcached.get(key("shared"))))
        assert.isTrue(yield* memcached.delete(key("shared")))
        assertNone(yield* cache.get(key("shared")))
      }))

    // ---------------------------------------------------------------- waiting for TTLs (concurrent when live)
    // memcached counts TTLs on a clock that ticks once a second: an item set with ttl N dies somewhere in (N-1, N]
    // seconds. Timings below keep half a second of margin on both sides.
    if (sleeps) {
      it.effect(
        "expires after its ttl: a 1 s key (and a setMany batch) is gone after 2.1 s",
        () =>
          Effect.gen(function*() {
            const cache = yield* Cache
            yield* cache.set(key("exp-1s"), "v", { ttl: "1 second" })
            yield* cache.set(key("exp-keep"), "kept", { ttl: "1 minute" })
            yield* cache.setMany([[key("exp-m1"), 1], [key("exp-m2"), 2]], { ttl: "1 second" })
            yield* advance("2100 millis")
            assertNone(yield* cache.get(key("exp-1s")))
            assert.isFalse(yield* cache.has(key("exp-1s")))
            assert.instanceOf(yield* Effect.flip(cache.getOrFail(key("exp-1s"))), CacheNotFound)
            assert.strictEqual((yield* cache.getMany([key("exp-m1"), key("exp-m2"), key("exp-keep")])).size, 1)
            assertSome(yield* cache.get(key("exp-keep")), "kept")
          }),
        sleepy
      )

      it.effect(
        "updateTimeout extends life: ttl 2 s, at 0.5 s updateTimeout 4 s, still there at 3 s",
        () =>
          Effect.gen(function*() {
            const cache = yield* Cache
            yield* cache.set(key("ext"), "extended", { ttl: "2 seconds" })
            yield* cache.set(key("ext-control"), "control", { ttl: "2 seconds" })
            yield* advance("500 millis")
            assert.strictEqual(yield* cache.updateTimeout(key("ext"), "4 seconds"), "extended")
            yield* advance("2500 millis")
            assertSome(yield* cache.get(key("ext")), "extended")
            assertNone(yield* cache.get(key("ext-control"))) // without updateTimeout the key expires
          }),
        sleepy
      )

      it.effect("updateTimeout with null makes the key permanent", () =>
        Effect.gen(function*() {
          const cache = yield* Cache
          yield* cache.set(key("perm"), "permanent", { ttl: "2 seconds" })
          yield* cache.set(key("perm-control"), "control", { ttl: "1 second" })
          assert.strictEqual(yield* cache.updateTimeout(key("perm"), null), "permanent")
          yield* advance("2100 millis")
          assertSome(yield* cache.get(key("perm")), "permanent")
          assertNone(yield* cache.get(key("perm-control")))
          yield* jump("400 days")
          assertSome(yield* cache.get(key("perm")), "permanent")
        }), sleepy)

      it.effect(
        "Memcached.touch and getAndTouch extend life; getAndTouch with null makes it permanent",
        () =>
          Effect.gen(function*() {
            const memcached = yield* Memcached
            yield* memcached.set(key("t-touch"), bytes("a"), { ttl: "2 seconds" })
            yield* memcached.set(key("t-gat"), bytes("b"), { ttl: "2 seconds" })
            yield* memcached.set(key("t-gat-null"), bytes("c"), { ttl: "2 seconds" })
            yield* memcached.set(key("t-control"), bytes("d"), { ttl: "2 seconds" })
            assert.strictEqual(itemText(yield* memcached.getAndTouch(key("t-gat-null"), null)), "c")
            yield* advance("500 millis")
            assert.isTrue(yield* memcached.touch(key("t-touch"), "4 seconds"))
            assert.strictEqual(itemText(yield* memcached.getAndTouch(key("t-gat"), "4 seconds")), "b")
            yield* advance("2500 millis")
            assert.strictEqual(itemText(yield* memcached.get(key("t-touch"))), "a")
            assert.strictEqual(itemText(yield* memcached.get(key("t-gat"))), "b")
            assert.strictEqual(itemText(yield* memcached.get(key("t-gat-null"))), "c")
            assertNone(yield* memcached.get(key("t-control")))
          }),
        sleepy
      )

      it.effect("counters created from initial get the given ttl", () =>
        Effect.gen(function*() {
          const memcached = yield* Memcached
          assertSome(yield* memcached.increment(key("ctr-ttl"), 1n, { initial: 10n, ttl: "2 seconds" }), 10n)
          assertSome(yield* memcached.increment(key("ctr-ttl"), 1n), 11n)
          yield* advance("2100 millis")
          assertNone(yield* memcached.get(key("ctr-ttl")))
          assertNone(yield* memcached.increment(key("ctr-ttl"), 1n))
        }), sleepy)
    }
  })
}
