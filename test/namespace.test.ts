/**
 * Namespaces: `cache.namespace(name)` keeps its keys under `<name>:<version>:`, and `clear()` moves it to a new
 * version with one atomic increment, touching nothing else (no flush_all). On the in-memory fake (TestClock), with two
 * caches over one store standing in for two processes, and on a real memcached with two independent layers. Shared
 * by both Effect lines through `#line` (see `support/contract.ts`); `effect4/test/namespace.test.ts` runs it on Effect 4.
 */
import {
  assert,
  assertNone,
  assertSome,
  Cache,
  CacheNotFound,
  Context,
  describe,
  Duration,
  Effect,
  InvalidKey,
  it,
  Layer,
  Memcached,
  MemcachedCache,
  MemcachedTest,
  Option,
  Schema,
  Serializer,
  startMemcached,
  TestClock
} from "#line"

const text = (item: Option.Option<{ readonly value: Uint8Array }>) =>
  Option.map(item, (i) => new TextDecoder().decode(i.value))

/** A second cache over the same store, as another process would have: its own copy of each namespace's version. */
const otherProcess = Effect.gen(function*() {
  const memcached = yield* Memcached
  const serializer = yield* Serializer
  return yield* Cache.make({ ...memcached }, serializer)
})

describe("namespaces (in-memory fake)", () => {
  it.effect("keys live under <name>:<version>:, the version under <name>:_version", () =>
    Effect.gen(function*() {
      const cache = yield* Cache
      const memcached = yield* Memcached
      const users = cache.namespace("users")
      assert.strictEqual(users.name, "users")
      yield* users.set("1", "ada")
      const version = Option.getOrThrow(text(yield* memcached.get("users:_version")))
      assert.match(version, /^\d+$/)
      assertSome(yield* cache.get(`users:${version}:1`), "ada")
      assertNone(yield* cache.get("1"))
      assertSome(yield* users.get("1"), "ada")
    }).pipe(Effect.provide(MemcachedTest)))

  it.effect("clear() invalidates only that namespace: other namespaces and plain keys stay", () =>
    Effect.gen(function*() {
      const cache = yield* Cache
      const users = cache.namespace("users")
      const posts = cache.namespace("posts")
      yield* users.setMany([["a", 1], ["b", 2]])
      yield* posts.set("a", "post")
      yield* cache.set("a", "plain")
      yield* cache.set("users:a", "plain, looks namespaced")

      yield* users.clear
      assertNone(yield* users.get("a"))
      assert.deepStrictEqual(yield* users.getMany(["a", "b"]), new Map())
      assertSome(yield* posts.get("a"), "post")
      assertSome(yield* cache.get("a"), "plain")
      assertSome(yield* cache.get("users:a"), "plain, looks namespaced")

      yield* users.set("a", "new")
      assertSome(yield* users.get("a"), "new")
    }).pipe(Effect.provide(MemcachedTest)))

  it.effect("every member works inside a namespace, keys in results are the caller's", () =>
    Effect.gen(function*() {
      const cache = yield* Cache
      const ns = cache.namespace("members")
      yield* ns.set("k", "v", { ttl: "10 seconds" })
      assert.isTrue(yield* ns.has("k"))
      assert.strictEqual(yield* ns.getOrElse("missing", () => "fallback"), "fallback")
      assert.instanceOf(yield* Effect.flip(ns.getOrFail("missing")), CacheNotFound)
      assert.strictEqual(yield* ns.getOrSet("computed", Effect.succeed(42)), 42)
      yield* ns.setMany([["x", 1], ["y", 2]])
      assert.deepStrictEqual(yield* ns.getMany(["x", "y", "z"]), new Map([["x", 1], ["y", 2]]))
      assert.strictEqual(yield* ns.updateTimeout("k", "1 hour"), "v")
      yield* TestClock.adjust("20 seconds")
      assertSome(yield* ns.get("k"), "v")
      assert.isTrue(yield* ns.remove("x", "y"))
      assert.isFalse(yield* ns.remove("x"))
      const numbers = ns.typed(Schema.NumberFromString)
      yield* numbers.set("n", 1.5)
      assertSome(yield* ns.get("n"), "1.5")
      const memo = ns.cached((n: number) => Effect.succeed(n + 1), { key: "inc" })
      assert.strictEqual(yield* memo(1), 2)
      assertSome(yield* ns.get("inc:[1]"), 2)
      assert.instanceOf(yield* Effect.flip(ns.get("bad key")), InvalidKey)
      assert.instanceOf(yield* Effect.flip(ns.get("")), InvalidKey, "an empty key stays invalid")
    }).pipe(Effect.provide(MemcachedTest)))

  it.effect("the same name gives the same view; nested namespaces are cleared with their parent", () =>
    Effect.gen(function*() {
      const cache = yield* Cache
      assert.strictEqual(cache.namespace("a"), cache.namespace("a"))
      const admins = cache.namespace("users").namespace("admins")
      yield* admins.set("root", true)
      yield* cache.namespace("users").clear
      assertNone(yield* admins.get("root"))
      yield* admins.set("root", true)
      yield* admins.clear
      assertNone(yield* admins.get("root"))
    }).pipe(Effect.provide(MemcachedTest)))

  it.effect("another process sees a clear once its copy of the version is older than versionTtl (1 s)", () =>
    Effect.gen(function*() {
      const here = (yield* Cache).namespace("sessions")
      const there = (yield* otherProcess).namespace("sessions")
      yield* here.set("s1", "alive")
      assertSome(yield* there.get("s1"), "alive")

      yield* here.clear
      assertNone(yield* here.get("s1")) // this process sees its own clear at once
      assertSome(yield* there.get("s1"), "alive") // the other still trusts its copy of the version
      yield* TestClock.adjust("999 millis")
      assertSome(yield* there.get("s1"), "alive")
      yield* TestClock.adjust("1 millis")
      assertNone(yield* there.get("s1")) // after versionTtl it reads the new version

      const eager = (yield* otherProcess).namespace("sessions", { versionTtl: Duration.zero })
      yield* here.set("s2", "alive")
      assertSome(yield* eager.get("s2"), "alive")
      yield* here.clear
      assertNone(yield* eager.get("s2")) // versionTtl 0 reads the version before every operation
    }).pipe(Effect.provide(MemcachedTest)))

  it.effect("a version key that disappeared comes back newer than before, so old keys cannot resurface", () =>
    Effect.gen(function*() {
      const cache = yield* Cache
      const memcached = yield* Memcached
      yield* TestClock.adjust("10 seconds")
      const fresh = (yield* otherProcess).namespace("evicted")
      yield* fresh.set("k", "old")
      yield* fresh.clear
      yield* fresh.set("k", "v2")
      yield* memcached.delete("evicted:_version") // as an eviction would
      yield* TestClock.adjust("5 seconds")
      const later = cache.namespace("evicted")
      assertNone(yield* later.get("k"))
      const version = Option.getOrThrow(text(yield* memcached.get("evicted:_version")))
      assert.strictEqual(version, "15000", "a missing version starts at the current time in milliseconds")
    }).pipe(Effect.provide(MemcachedTest)))
})

describe("namespaces (real memcached, two independent layers)", () => {
  it.live("a clear in one is seen by the other within versionTtl; other namespaces and plain keys are untouched", () =>
    Effect.gen(function*() {
      const server = yield* startMemcached()
      const layer = Cache.layerMemcached({ servers: server.address }).pipe(Layer.provide(Serializer.structured))
      const a = Context.get(yield* Layer.build(layer), Cache)
      const b = Context.get(yield* Layer.build(layer), Cache)
      assert.notStrictEqual(a, b)

      yield* a.namespace("users").set("1", "ada")
      yield* a.namespace("posts").set("1", "hello")
      yield* a.set("1", "plain")
      assertSome(yield* b.namespace("users").get("1"), "ada")

      yield* a.namespace("users").clear
      const clearedAt = Date.now()
      assertNone(yield* a.namespace("users").get("1"))
      let seen = Option.some<unknown>("ada")
      while (Option.isSome(seen)) {
        seen = yield* b.namespace("users").get("1")
        if (Option.isSome(seen)) yield* Effect.sleep("20 millis")
      }
      const elapsed = Date.now() - clearedAt
      assert.isAtMost(elapsed, 1200, `seen after ${elapsed} ms`)
      assertSome(yield* b.namespace("posts").get("1"), "hello")
      assertSome(yield* b.get("1"), "plain")

      const eagerB = b.namespace("users", { versionTtl: Duration.zero })
      yield* a.namespace("users").set("2", "grace")
      assertSome(yield* eagerB.get("2"), "grace")
      yield* a.namespace("users").clear
      assertNone(yield* eagerB.get("2"))
    }).pipe(Effect.scoped))
})

describe("MemcachedCache.namespace", () => {
  it("has the Promise methods and clear(), which leaves other keys alone", async () => {
    await using rc = new MemcachedCache({ layer: MemcachedTest })
    const users = rc.namespace("users")
    assert.strictEqual(users.name, "users")
    await users.set("1", { name: "ada" }, 60)
    await rc.set("1", "plain")
    await rc.namespace("posts").set("1", "post")
    assert.deepStrictEqual(await users.get("1"), { name: "ada" })
    assert.strictEqual(await users.getOrSet("2", async () => "grace"), "grace")
    assert.deepStrictEqual(
      await users.getMany(["1", "2", "3"]),
      new Map<string, unknown>([["1", { name: "ada" }], ["2", "grace"]])
    )
    const memo = users.cached(async (n: number) => n * 10, { key: "times10" })
    assert.strictEqual(await memo(4), 40)

    await users.clear()
    assert.isUndefined(await users.get("1"))
    assert.isFalse(await users.has("2"))
    assert.strictEqual(await rc.get("1"), "plain")
    assert.strictEqual(await rc.namespace("posts").get("1"), "post")
    const error = await users.get("1", undefined, true).catch((e: unknown) => e)
    assert.instanceOf(error, CacheNotFound)
  })
})
