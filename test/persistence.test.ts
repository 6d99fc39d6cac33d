/**
 * memcached as `@effect/experimental`'s Persistence backing, used the way users use it: `PersistedCache`s in separate
 * "processes" (each its own Persistence and, on real memcached, its own client) over one memcached, against the
 * in-memory fake (on the `TestClock`) and a real memcached; then two `ManagedRuntime`s, two servers, and servers down.
 */
import { PersistedCache, Persistence } from "@effect/experimental"
import { assert, describe, it, layer as layerSuite } from "@effect/vitest"
import { assertNone, assertSome } from "@effect/vitest/utils"
import type { Context, Scope } from "effect"
import { Duration, Effect, Exit, Layer, ManagedRuntime, Option, PrimaryKey, Schema, TestClock } from "effect"
import { Flags } from "../src/engine/serialization.js"
import { Memcached, MemcachedError } from "../src/index.js"
import * as MemcachedPersistence from "../src/MemcachedPersistence.js"
import { asciiStats } from "./support/asciiClient.js"
import { MemcachedServer, startMemcached } from "./support/MemcachedServer.js"

class User extends Schema.Class<User>("User")({ id: Schema.Number, name: Schema.String }) {}

class GetUser extends Schema.TaggedRequest<GetUser>()("GetUser", {
  failure: Schema.String,
  success: User,
  payload: { id: Schema.Number }
}) {
  [PrimaryKey.symbol]() {
    return `user-${this.id}`
  }
}

/** Users 1-99 exist; the others fail with a message (a failure is persisted too). */
const usersCache = (options: {
  readonly storeId: string
  readonly lookups: { count: number }
  readonly timeToLive?: (request: GetUser) => Duration.DurationInput
}) =>
  PersistedCache.make({
    storeId: options.storeId,
    lookup: (request: GetUser) =>
      Effect.suspend(() => {
        options.lookups.count++
        return request.id < 100
          ? Effect.succeed(new User({ id: request.id, name: `user ${request.id}` }))
          : Effect.fail(`no user ${request.id}`)
      }),
    timeToLive: (request) => options.timeToLive?.(request) ?? "1 hour"
  })

const user = (id: number) => new User({ id, name: `user ${id}` })

/** A Persistence of its own over a `Memcached` of its own: what one process of an application builds. */
type Process = Context.Context<Persistence.ResultPersistence | Persistence.BackingPersistence>

const persistenceContract = <E, R>(
  name: string,
  suite: Layer.Layer<Memcached | R, E>,
  processMemcached: Layer.Layer<Memcached, never, Memcached | R>,
  live: boolean
) => {
  const advance = (duration: Duration.DurationInput) => live ? Effect.sleep(duration) : TestClock.adjust(duration)
  const newProcess: Effect.Effect<Process, never, Scope.Scope | Memcached | R> = Layer.build(
    Layer.merge(MemcachedPersistence.layer, MemcachedPersistence.layerBacking).pipe(Layer.provide(processMemcached))
  )
  const backingStore = (process: Process, storeId: string) =>
    Effect.provide(Effect.flatMap(Persistence.BackingPersistence, (backing) => backing.make(storeId)), process)
  const resultStore = (process: Process, storeId: string) =>
    Effect.provide(
      Effect.flatMap(Persistence.ResultPersistence, (persistence) => persistence.make({ storeId })),
      process
    )

  layerSuite(suite, { excludeTestServices: live })(name, (it) => {
    it.scoped("a PersistedCache's lookup runs once across two processes, failures included", () =>
      Effect.gen(function*() {
        const lookups = { count: 0 }
        const a = yield* Effect.provide(usersCache({ storeId: "once", lookups }), yield* newProcess)
        const b = yield* Effect.provide(usersCache({ storeId: "once", lookups }), yield* newProcess)
        assert.deepStrictEqual(yield* a.get(new GetUser({ id: 1 })), user(1))
        assert.strictEqual(lookups.count, 1)
        const fromB = yield* b.get(new GetUser({ id: 1 }))
        assert.instanceOf(fromB, User, "decoded through the request's schema")
        assert.deepStrictEqual(fromB, user(1))
        assert.strictEqual(lookups.count, 1, "process b read a's result from memcached")
        assert.strictEqual(yield* Effect.flip(a.get(new GetUser({ id: 404 }))), "no user 404")
        assert.strictEqual(yield* Effect.flip(b.get(new GetUser({ id: 404 }))), "no user 404")
        assert.strictEqual(lookups.count, 2, "the failure was persisted too")
        yield* b.invalidate(new GetUser({ id: 1 }))
        const c = yield* Effect.provide(usersCache({ storeId: "once", lookups }), yield* newProcess)
        assert.deepStrictEqual(yield* c.get(new GetUser({ id: 1 })), user(1))
        assert.strictEqual(lookups.count, 3, "invalidate removed it from memcached")
      }))

    it.scoped("timeToLive is memcached's expiry: sub-second rounds up, 60 days stays, expired results are looked up", () =>
      Effect.gen(function*() {
        const lookups = { count: 0 }
        const timeToLive = (request: GetUser) =>
          request.id === 1 ? "300 millis" : request.id === 2 ? "1500 millis" : "60 days"
        const ids = [1, 2, 3]
        const cacheIn = Effect.flatMap(
          newProcess,
          (process) => Effect.provide(usersCache({ storeId: "ttl", lookups, timeToLive }), process)
        )
        const a = yield* cacheIn
        yield* Effect.forEach(ids, (id) => a.get(new GetUser({ id })))
        assert.strictEqual(lookups.count, 3)
        const b = yield* cacheIn
        // 1500 millis is 2 seconds: at least 1 second is left; 60 days was not sent as a time in 1970
        yield* Effect.forEach([2, 3], (id) => b.get(new GetUser({ id })))
        assert.strictEqual(lookups.count, 3)
        yield* advance("3100 millis")
        const c = yield* cacheIn
        for (const id of ids) assert.deepStrictEqual(yield* c.get(new GetUser({ id })), user(id))
        assert.strictEqual(
          lookups.count,
          5,
          "the 300 ms and 1500 ms results expired (300 ms was not 'never'), 60 days not"
        )
      }))

    it.scoped("clear empties one store, for every process, and leaves other stores and keys", () =>
      Effect.gen(function*() {
        const memcached = yield* Memcached
        const a = yield* newProcess
        const b = yield* newProcess
        const usersA = yield* resultStore(a, "clear-users")
        const ordersA = yield* resultStore(a, "clear-orders")
        const usersB = yield* resultStore(b, "clear-users")
        yield* usersA.set(new GetUser({ id: 1 }), Exit.succeed(user(1)))
        yield* ordersA.set(new GetUser({ id: 1 }), Exit.succeed(user(2)))
        yield* memcached.set("clear-neighbour", new Uint8Array([1]))
        assert.isTrue(Option.isSome(yield* usersB.get(new GetUser({ id: 1 }))), "b has read the store's version")
        yield* usersA.clear
        assertNone(yield* usersA.get(new GetUser({ id: 1 })))
        yield* advance("1100 millis") // a process trusts its copy of a store's version for 1 second
        assertNone(yield* usersB.get(new GetUser({ id: 1 })))
        assertSome(yield* ordersA.get(new GetUser({ id: 1 })), Exit.succeed(user(2)))
        assert.isTrue(Option.isSome(yield* memcached.get("clear-neighbour")), "no flush_all")
        yield* usersB.set(new GetUser({ id: 1 }), Exit.succeed(user(3)))
        assertSome(yield* usersA.get(new GetUser({ id: 1 })), Exit.succeed(user(3)))
      }))

    it.scoped("keys memcached cannot take are hashed, and every key stays apart", () =>
      Effect.gen(function*() {
        const store = yield* backingStore(yield* newProcess, "store id with spaces: and a colon")
        const keys = [
          "plain",
          "with space",
          "tab\there",
          "new\nline",
          "ünïcödé",
          "😀",
          "x".repeat(100),
          "x".repeat(101),
          "x".repeat(5000),
          "",
          "#plain",
          "\uD800",
          "\uD801",
          "\uFFFD"
        ]
        yield* Effect.forEach(keys, (key, i) => store.set(key, { i }, Option.none()))
        assert.deepStrictEqual(yield* store.getMany(keys), keys.map((_, i) => Option.some({ i })))
        for (const [i, key] of keys.entries()) assertSome(yield* store.get(key), { i })
        yield* store.remove("x".repeat(5000))
        assertNone(yield* store.get("x".repeat(5000)))
        assertSome(yield* store.get("x".repeat(101)), { i: 7 })
      }))

    it.scoped("a store lives under persistence/<storeId>:<version>:<key>, as JSON with Serializer.json's flags", () =>
      Effect.gen(function*() {
        const memcached = yield* Memcached
        const store = yield* backingStore(yield* newProcess, "layout")
        yield* store.set("k", { a: [1, "two", null] }, Option.none())
        const version = Option.getOrThrow(yield* memcached.get("persistence/layout:_version"))
        const item = Option.getOrThrow(
          yield* memcached.get(`persistence/layout:${new TextDecoder().decode(version.value)}:k`)
        )
        assert.strictEqual(item.flags, Flags.json)
        assert.strictEqual(new TextDecoder().decode(item.value), `{"a":[1,"two",null]}`)
      }))

    it.scoped("getMany answers in key order, hits and misses, duplicates too", () =>
      Effect.gen(function*() {
        const store = yield* backingStore(yield* newProcess, "many")
        const keys = Array.from({ length: 40 }, (_, i) => `k${i}`)
        yield* store.setMany(keys.filter((_, i) => i % 3 !== 0).map((key) => [key, key, Option.none()] as const))
        const asked = [...keys].reverse().concat(["k1", "missing", "k1"])
        const found = yield* store.getMany(asked)
        assert.deepStrictEqual(
          found,
          asked.map((key) => key !== "missing" && Number(key.slice(1)) % 3 !== 0 ? Option.some(key) : Option.none())
        )
        assert.deepStrictEqual(yield* store.getMany([]), [])
      }))

    it.scoped("setMany keeps each entry's own TTL", () =>
      Effect.gen(function*() {
        const store = yield* backingStore(yield* newProcess, "setMany-ttl")
        yield* store.setMany([
          ["short", 1, Option.some(Duration.millis(300))],
          ["never", 2, Option.none()],
          ["long", 3, Option.some(Duration.days(60))],
          ["short2", 4, Option.some(Duration.millis(300))]
        ])
        assert.deepStrictEqual(yield* store.getMany(["never", "long"]), [Option.some(2), Option.some(3)])
        yield* advance("2100 millis")
        assert.deepStrictEqual(
          yield* store.getMany(["short", "never", "long", "short2"]),
          [Option.none(), Option.some(2), Option.some(3), Option.none()]
        )
      }))

    it.scoped("a value without a JSON form, or a stored value that is not JSON: a PersistenceError that says so", () =>
      Effect.gen(function*() {
        const memcached = yield* Memcached
        const store = yield* backingStore(yield* newProcess, "bad-json")
        const unencodable = yield* Effect.flip(store.set("k", { n: 1n }, Option.none()))
        assert.strictEqual(unencodable._tag, "PersistenceError")
        assert.strictEqual(unencodable.reason, "BackingError")
        assert.match(unencodable.message, /^memcached persistence set failed: the value has no JSON form \(.*BigInt/)
        yield* store.set("k", "fine", Option.none())
        const version = Option.getOrThrow(yield* memcached.get("persistence/bad-json:_version"))
        const key = `persistence/bad-json:${new TextDecoder().decode(version.value)}:k`
        yield* memcached.set(key, new TextEncoder().encode("{not json"), { flags: Flags.json })
        const notJson = yield* Effect.flip(store.get("k"))
        assert.match(notJson.message, /^memcached persistence get failed: the stored value is not this store's JSON/)
        yield* memcached.set(key, new TextEncoder().encode("\"raw\""), { flags: 0 })
        const foreign = yield* Effect.flip(store.getMany(["k"]))
        assert.match(foreign.message, /^memcached persistence getMany failed: .*flags \(0x0\) are not json's/)
      }))
  })
}

persistenceContract(
  "MemcachedPersistence over the in-memory fake",
  Memcached.layerMemory().pipe(Layer.orDie),
  Layer.effect(Memcached, Memcached),
  false
)

const liveMemcached = (keyPrefix: string) =>
  Layer.unwrapEffect(
    Effect.map(MemcachedServer, (server) => Memcached.layer({ servers: server.address, keyPrefix }).pipe(Layer.orDie))
  )

persistenceContract(
  "MemcachedPersistence over real memcached",
  liveMemcached("persist:").pipe(Layer.provideMerge(MemcachedServer.layer)),
  liveMemcached("persist:"),
  true
)

describe("MemcachedPersistence, live", () => {
  it.scopedLive("two ManagedRuntimes (two processes) over one memcached: the lookup runs once", () =>
    Effect.gen(function*() {
      const server = yield* startMemcached()
      const lookups = { count: 0 }
      const runtime = () =>
        ManagedRuntime.make(
          MemcachedPersistence.layer.pipe(Layer.provide(Memcached.layer({ servers: server.address })))
        )
      const getIn = (runtime: ManagedRuntime.ManagedRuntime<Persistence.ResultPersistence, unknown>, id: number) =>
        Effect.promise(() =>
          runtime.runPromise(
            Effect.scoped(
              Effect.flatMap(usersCache({ storeId: "runtimes", lookups }), (users) => users.get(new GetUser({ id })))
            )
          )
        )
      const first = runtime()
      const second = runtime()
      yield* Effect.addFinalizer(() => Effect.promise(() => Promise.all([first.dispose(), second.dispose()])))
      assert.deepStrictEqual(yield* getIn(first, 7), user(7))
      assert.deepStrictEqual(yield* getIn(second, 7), user(7))
      assert.deepStrictEqual(yield* getIn(second, 8), user(8))
      assert.deepStrictEqual(yield* getIn(first, 8), user(8))
      assert.strictEqual(lookups.count, 2)
    }))

  it.scopedLive("getMany over two servers: each key asked once, answers in key order", () =>
    Effect.gen(function*() {
      const servers = yield* Effect.all([startMemcached(), startMemcached()])
      const context = yield* Layer.build(
        MemcachedPersistence.layerBacking.pipe(
          Layer.provide(Memcached.layer({ servers: servers.map((server) => server.address) }))
        )
      )
      const store = yield* Effect.provide(
        Effect.flatMap(Persistence.BackingPersistence, (backing) => backing.make("two-servers")),
        context
      )
      const keys = Array.from({ length: 60 }, (_, i) => `key-${i}`)
      yield* store.setMany(keys.map((key) => [key, { key }, Option.none()] as const))
      const items = yield* Effect.forEach(servers, (server) =>
        Effect.map(asciiStats(server.address), (stats) => Number(stats.curr_items)))
      // each server holds some of the 60 values (and maybe the store's version key)
      assert.isTrue(
        items.every((count) =>
          count > 5
        ),
        `values on both servers: ${items}`
      )
      assert.strictEqual(items[0]! + items[1]!, 61)
      const getsBefore = yield* Effect.forEach(
        servers,
        (server) => Effect.map(asciiStats(server.address), (stats) => Number(stats.cmd_get))
      )
      const asked = keys.filter((_, i) => i % 2 === 0).reverse().concat(["absent"], keys.slice(0, 3))
      assert.deepStrictEqual(
        yield* store.getMany(asked),
        asked.map((key) => key === "absent" ? Option.none() : Option.some({ key }))
      )
      const gets = yield* Effect.forEach(
        servers,
        (server, i) => Effect.map(asciiStats(server.address), (stats) => Number(stats.cmd_get) - getsBefore[i]!)
      )
      assert.strictEqual(
        gets[0]! + gets[1]!,
        new Set(asked).size,
        "each distinct key was asked once, over both servers"
      )
    }))

  const downCases = [
    { name: "killed", reason: "Unavailable", down: (server: { kill: () => Effect.Effect<void> }) => server.kill() },
    {
      name: "frozen (SIGSTOP)",
      reason: "Timeout",
      down: (server: { stop: () => Effect.Effect<void> }) => server.stop()
    }
  ] as const
  for (const { down, name, reason } of downCases) {
    it.scopedLive(`a server ${name}: PersistedCache.get fails with a PersistenceError (${reason}) within the timeout`, () =>
      Effect.gen(function*() {
        const server = yield* startMemcached()
        const context = yield* Layer.build(
          MemcachedPersistence.layer.pipe(
            Layer.provide(Memcached.layer({ servers: server.address, timeout: "500 millis" }))
          )
        )
        const lookups = { count: 0 }
        const users = yield* Effect.provide(usersCache({ storeId: "down", lookups }), context)
        assert.deepStrictEqual(yield* users.get(new GetUser({ id: 1 })), user(1))
        yield* down(server)
        yield* Effect.addFinalizer(() => server.resume())
        const started = Date.now()
        const error = yield* Effect.flip(users.get(new GetUser({ id: 2 })))
        const elapsed = Date.now() - started
        assert.isTrue(Persistence.PersistenceBackingError.prototype.isPrototypeOf(error), String(error))
        const failure = error as Persistence.PersistenceBackingError
        assert.strictEqual(failure.method, "get")
        assert.instanceOf(failure.cause, MemcachedError)
        assert.strictEqual((failure.cause as MemcachedError).reason, reason)
        assert.match(
          failure.message,
          new RegExp(`^memcached persistence get failed: memcached ${reason} at 127\\.0\\.0\\.1:`)
        )
        assert.isTrue(elapsed < 5_000, `failed after ${elapsed} ms`)
        assert.strictEqual(lookups.count, 1, "the lookup did not run")
      }))
  }
})
