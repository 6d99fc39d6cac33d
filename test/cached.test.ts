/**
 * `Cache.cached` (the seed's `r_cache` decorator) and the facade's `rc.cached`, on the in-memory fake. Shared by both
 * Effect lines through `#line` (see `support/contract.ts`); `effect4/test/cached.test.ts` runs it on Effect 4.
 */
import {
  assert,
  assertNone,
  assertSome,
  Cache,
  type CacheService,
  Data,
  Deferred,
  describe,
  Effect,
  Exit,
  Fiber,
  fork,
  InvalidKey,
  isDefect,
  it,
  Layer,
  Memcached,
  MemcachedCache,
  MemcachedTest,
  NumberFromString,
  SerializationError,
  Serializer,
  TestClock,
  yieldNow
} from "#line"

class Boom extends Data.TaggedError("Boom")<{ readonly n: number }> {}

describe("Cache.cached", () => {
  it.effect("memoizes by arguments: one computation per key, then hits", () =>
    Effect.gen(function*() {
      const cache = yield* Cache
      const calls: Array<number> = []
      const square = cache.cached((n: number) => Effect.sync(() => (calls.push(n), n * n)), { key: "square" })
      assert.strictEqual(yield* square(3), 9)
      assert.strictEqual(yield* square(3), 9)
      assert.strictEqual(yield* square(4), 16)
      assert.deepStrictEqual(calls, [3, 4])
      assertSome(yield* cache.get("square:[3]"), 9)
      assertSome(yield* cache.get("square:[4]"), 16)
    }).pipe(Effect.provide(MemcachedTest)))

  it.effect("caches falsy results: 0, \"\", false, null and undefined are computed once", () =>
    Effect.gen(function*() {
      const cache = yield* Cache
      for (const value of [0, "", false, null, undefined]) {
        let calls = 0
        const fn = cache.cached(() => Effect.sync(() => (calls++, value)), {
          key: `falsy-${String(value)}-${typeof value}`
        })
        assert.strictEqual(yield* fn(), value)
        assert.strictEqual(yield* fn(), value)
        assert.strictEqual(calls, 1, `${JSON.stringify(value)} is cached`)
      }
    }).pipe(Effect.provide(MemcachedTest)))

  it.effect("a key function decides the key; a prefix without arguments is the key itself", () =>
    Effect.gen(function*() {
      const cache = yield* Cache
      const user = cache.cached((id: number, _locale: string) => Effect.succeed({ id }), {
        key: (id, locale) => `user:${id}:${locale}`
      })
      yield* user(7, "en")
      assertSome(yield* cache.get("user:7:en"), { id: 7 })
      const config = cache.cached(() => Effect.succeed("cfg"), { key: "config" })
      yield* config()
      assertSome(yield* cache.get("config"), "cfg")
    }).pipe(Effect.provide(MemcachedTest)))

  it.effect("prefix keys: object keys sorted, BigInts kept apart, whitespace percent-encoded", () =>
    Effect.gen(function*() {
      const cache = yield* Cache
      let calls = 0
      const fn = cache.cached((_: unknown) => Effect.sync(() => ++calls), { key: "q" })
      assert.strictEqual(yield* fn({ a: 1, b: 2 }), 1)
      assert.strictEqual(yield* fn({ b: 2, a: 1 }), 1, "same object, other key order: same key")
      assert.strictEqual(yield* fn(1n), 2)
      assert.strictEqual(yield* fn("1n"), 3, "a BigInt and a string differ")
      assert.strictEqual(yield* fn("hello world\n"), 4)
      assertSome(yield* cache.get(`q:["hello%20world\\n"]`), 4)
      assertSome(yield* cache.get(`q:[{"a":1,"b":2}]`), 1)
      assertSome(yield* cache.get(`q:[1n]`), 2)
      assert.strictEqual(yield* fn(new Date(0)), 5)
      assertSome(yield* cache.get(`q:[Date(0)]`), 5)
      const defect = yield* Effect.exit(fn(() => 1))
      assert.isTrue(Exit.isFailure(defect) && isDefect(defect.cause), "a function argument has no key")
    }).pipe(Effect.provide(MemcachedTest)))

  it.effect("concurrent calls with one key compute once; their failure is shared and not stored", () =>
    Effect.gen(function*() {
      const cache = yield* Cache
      const gate = yield* Deferred.make<void>()
      let calls = 0
      const slow = cache.cached(
        (id: number) => Effect.andThen(Effect.sync(() => calls++), Effect.as(Deferred.await(gate), `v${id}`)),
        { key: "slow" }
      )
      const fibers = yield* Effect.forEach([1, 1, 1, 1], (id) => fork(slow(id)))
      yield* yieldNow
      yield* Deferred.succeed(gate, undefined)
      assert.deepStrictEqual(yield* Fiber.joinAll(fibers), ["v1", "v1", "v1", "v1"])
      assert.strictEqual(calls, 1)

      let attempts = 0
      const flaky = cache.cached(
        () =>
          Effect.suspend(() => ++attempts === 1 ? Effect.fail(new Boom({ n: attempts })) : Effect.succeed(attempts)),
        {
          key: "flaky"
        }
      )
      const error = yield* Effect.flip(flaky())
      assert.instanceOf(error, Boom)
      assertNone(yield* cache.get("flaky"))
      assert.strictEqual(yield* flaky(), 2)
    }).pipe(Effect.provide(MemcachedTest)))

  it.effect("ttl: the value expires and is computed again", () =>
    Effect.gen(function*() {
      const cache = yield* Cache
      let calls = 0
      const fn = cache.cached(() => Effect.sync(() => ++calls), { key: "ttl", ttl: "1 second" })
      assert.strictEqual(yield* fn(), 1)
      assert.strictEqual(yield* fn(), 1)
      yield* TestClock.adjust("2 seconds")
      assert.strictEqual(yield* fn(), 2)
    }).pipe(Effect.provide(MemcachedTest)))

  it.effect("the module-level accessor, a typed view and a lease without contention", () =>
    Effect.gen(function*() {
      let calls = 0
      const double = Cache.cached((n: number) => Effect.sync(() => (calls++, n * 2)), { key: "double", lease: true })
      assert.strictEqual(yield* double(21), 42)
      assert.strictEqual(yield* double(21), 42)
      assert.strictEqual(calls, 1)
      const memcached = yield* Memcached
      assertNone(yield* memcached.get("double:[21]:lease"))

      const cache = yield* Cache
      const numbers = cache.typed(NumberFromString)
      const half = numbers.cached((n: number) => Effect.succeed(n / 2), { key: "half" })
      assert.strictEqual(yield* half(5), 2.5)
      assertSome(yield* cache.get("half:[5]"), "2.5")
      yield* cache.set("half:[6]", "not a number")
      assert.instanceOf(yield* Effect.flip(half(6)), SerializationError)
    }).pipe(Effect.provide(MemcachedTest)))

  it.effect("arguments too long for a key fail with InvalidKey, unless hashLongKeys", () =>
    Effect.gen(function*() {
      const fn = (cache: CacheService) => cache.cached((s: string) => Effect.succeed(s.length), { key: "len" })
      const long = "x".repeat(300)
      const error = yield* Effect.flip(Effect.flatMap(Cache, (cache) => fn(cache)(long)))
      assert.instanceOf(error, InvalidKey)
      const hashed = yield* Effect.flatMap(Cache, (cache) => fn(cache)(long)).pipe(
        Effect.provide(Cache.layerMemory({ hashLongKeys: true }).pipe(Layer.provide(Serializer.structured)))
      )
      assert.strictEqual(hashed, 300)
    }).pipe(Effect.provide(MemcachedTest)))
})

describe("MemcachedCache.cached", () => {
  it("memoizes an async function, falsy results included, and shares one call between concurrent callers", async () => {
    await using rc = new MemcachedCache({ layer: MemcachedTest })
    let calls = 0
    const lookup = rc.cached(async (id: number) => {
      calls++
      await new Promise((resolve) => setTimeout(resolve, 20))
      return id === 0 ? 0 : { id }
    }, { key: "lookup", ttl: 60 })
    assert.deepStrictEqual(await Promise.all([lookup(1), lookup(1), lookup(1)]), [{ id: 1 }, { id: 1 }, { id: 1 }])
    assert.strictEqual(calls, 1)
    assert.strictEqual(await lookup(0), 0)
    assert.strictEqual(await lookup(0), 0)
    assert.strictEqual(calls, 2)
    assert.deepStrictEqual(await rc.get("lookup:[1]"), { id: 1 })

    const sync = rc.cached((a: string, b: string) => a + b, { key: (a, b) => `concat:${a}:${b}` })
    assert.strictEqual(await sync("x", "y"), "xy")
    assert.strictEqual(await rc.get("concat:x:y"), "xy")
  })

  it("a rejection reaches the caller as it is, and nothing is stored", async () => {
    await using rc = new MemcachedCache({ layer: MemcachedTest })
    let calls = 0
    const failing = rc.cached(async () => {
      calls++
      if (calls === 1) throw new RangeError("first call fails")
      return "second"
    }, { key: "failing" })
    const error = await failing().catch((e: unknown) => e)
    assert.instanceOf(error, RangeError)
    assert.isUndefined(await rc.get("failing"))
    assert.strictEqual(await failing(), "second")
    assert.isUndefined(await rc.get("failing:lease"))
  })
})
