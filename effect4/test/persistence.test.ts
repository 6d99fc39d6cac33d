/**
 * memcached as the backing of Effect 4's Persistence (`effect/persistence`), used the way users use it:
 * `PersistedCache`s in separate "processes" (each its own Persistence and, on real memcached, its own client) over one
 * memcached, against the in-memory fake (on the `TestClock`) and a real memcached; then two `ManagedRuntime`s, two
 * servers, and servers down. The Effect 3 line's twin is ../../test/persistence.test.ts.
 */
import { assert, describe, it, layer as layerSuite } from "@effect/vitest"
import type { Scope } from "effect"
import { Context, Duration, Effect, Exit, Layer, ManagedRuntime, Option, Schema } from "effect"
import * as Persistable from "effect/persistence/Persistable"
import * as PersistedCache from "effect/persistence/PersistedCache"
import * as Persistence from "effect/persistence/Persistence"
import { TestClock } from "effect/testing"
import * as net from "node:net"
import { Flags } from "../../src/engine/serialization.js"
import { Memcached, MemcachedError } from "../src/index.js"
import * as MemcachedPersistence from "../src/MemcachedPersistence.js"
import { MemcachedServer } from "./support/MemcachedServer.js"

class User extends Schema.Class<User>("User")({ id: Schema.Number, name: Schema.String }) {}

class GetUser extends Persistable.Class<{ payload: { readonly id: number } }>()("GetUser", {
  primaryKey: ({ id }) => `user-${id}`,
  success: User,
  error: Schema.String
}) {}

/** Users 1-99 exist; the others fail with a message (a failure is persisted too). */
const usersCache = (options: {
  readonly storeId: string
  readonly lookups: { count: number }
  readonly timeToLive?: (request: GetUser) => Duration.Input
}) =>
  PersistedCache.make(
    (request: GetUser) =>
      Effect.suspend(() => {
        options.lookups.count++
        return request.id < 100
          ? Effect.succeed(new User({ id: request.id, name: `user ${request.id}` }))
          : Effect.fail(`no user ${request.id}`)
      }),
    { storeId: options.storeId, timeToLive: (_exit, request) => options.timeToLive?.(request) ?? "1 hour" }
  )

const user = (id: number) => new User({ id, name: `user ${id}` })

/** A Persistence of its own over a `Memcached` of its own: what one process of an application builds. */
type Process = Context.Context<Persistence.Persistence | Persistence.BackingPersistence>

const persistenceContract = <E, R>(
  name: string,
  suite: Layer.Layer<Memcached | R, E>,
  processMemcached: Layer.Layer<Memcached, never, Memcached | R>,
  live: boolean
) => {
  const advance = (duration: Duration.Input) => live ? Effect.sleep(duration) : TestClock.adjust(duration)
  const newProcess: Effect.Effect<Process, never, Scope.Scope | Memcached | R> = Layer.build(
    Layer.merge(MemcachedPersistence.layer, MemcachedPersistence.layerBacking).pipe(Layer.provide(processMemcached))
  )
  const backingStore = (process: Process, storeId: string) =>
    Effect.provide(Effect.flatMap(Persistence.BackingPersistence, (backing) => backing.make(storeId)), process)
  const resultStore = (process: Process, storeId: string) =>
    Effect.provide(Effect.flatMap(Persistence.Persistence, (persistence) => persistence.make({ storeId })), process)

  layerSuite(suite, { excludeTestServices: live })(name, (it) => {
    it.effect("a PersistedCache's lookup runs once across two processes, failures included", () =>
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

    it.effect("timeToLive is memcached's expiry: sub-second rounds up, 60 days stays, expired results are looked up", () =>
      Effect.gen(function*() {
        const lookups = { count: 0 }
        const timeToLive = (request: GetUser): Duration.Input =>
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

    it.effect("clear empties one store, for every process, and leaves other stores and keys", () =>
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
        assert.isDefined(yield* usersB.get(new GetUser({ id: 1 })), "b has read the store's version")
        yield* usersA.clear
        assert.isUndefined(yield* usersA.get(new GetUser({ id: 1 })))
        yield* advance("1100 millis") // a process trusts its copy of a store's version for 1 second
        assert.isUndefined(yield* usersB.get(new GetUser({ id: 1 })))
        assert.deepStrictEqual(yield* ordersA.get(new GetUser({ id: 1 })), Exit.succeed(user(2)))
        assert.isTrue(Option.isSome(yield* memcached.get("clear-neighbour")), "no flush_all")
        yield* usersB.set(new GetUser({ id: 1 }), Exit.succeed(user(3)))
        assert.deepStrictEqual(yield* usersA.get(new GetUser({ id: 1 })), Exit.succeed(user(3)))
      }))

    it.effect("keys memcached cannot take are hashed, and every key stays apart", () =>
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
        ] as const satisfies ReadonlyArray<string>
        const [first, ...rest] = keys
        yield* Effect.forEach(keys, (key, i) => store.set(key, { i }, undefined))
        assert.deepStrictEqual<ReadonlyArray<object | undefined>>(
          yield* store.getMany([first, ...rest]),
          keys.map((_, i) => ({ i }))
        )
        for (const [i, key] of keys.entries()) assert.deepStrictEqual(yield* store.get(key), { i })
        yield* store.remove("x".repeat(5000))
        assert.isUndefined(yield* store.get("x".repeat(5000)))
        assert.deepStrictEqual(yield* store.get("x".repeat(101)), { i: 7 })
      }))

    it.effect("a store lives under persistence/<storeId>:<version>:<key>, as JSON with Serializer.json's flags", () =>
      Effect.gen(function*() {
        const memcached = yield* Memcached
        const store = yield* backingStore(yield* newProcess, "layout")
        yield* store.set("k", { a: [1, "two", null] }, undefined)
        const version = Option.getOrThrow(yield* memcached.get("persistence/layout:_version"))
        const item = Option.getOrThrow(
          yield* memcached.get(`persistence/layout:${new TextDecoder().decode(version.value)}:k`)
        )
        assert.strictEqual(item.flags, Flags.json)
        assert.strictEqual(new TextDecoder().decode(item.value), `{"a":[1,"two",null]}`)
      }))

    it.effect("getMany answers in key order, hits and misses, duplicates too", () =>
      Effect.gen(function*() {
        const store = yield* backingStore(yield* newProcess, "many")
        const keys = Array.from({ length: 40 }, (_, i) => `k${i}`)
        const written = keys.filter((_, i) => i % 3 !== 0).map((key) => [key, { key }, undefined] as const)
        yield* store.setMany([written[0]!, ...written.slice(1)])
        const asked = [...keys].reverse().concat(["k1", "missing", "k1"])
        const found = yield* store.getMany([asked[0]!, ...asked.slice(1)])
        assert.deepStrictEqual<ReadonlyArray<object | undefined>>(
          found,
          asked.map((key) => key !== "missing" && Number(key.slice(1)) % 3 !== 0 ? { key } : undefined)
        )
      }))

    it.effect("setMany keeps each entry's own TTL", () =>
      Effect.gen(function*() {
        const store = yield* backingStore(yield* newProcess, "setMany-ttl")
        yield* store.setMany([
          ["short", { n: 1 }, Duration.millis(300)],
          ["never", { n: 2 }, undefined],
          ["long", { n: 3 }, Duration.days(60)],
          ["short2", { n: 4 }, Duration.millis(300)]
        ])
        assert.deepStrictEqual(yield* store.getMany(["never", "long"]), [{ n: 2 }, { n: 3 }])
        yield* advance("2100 millis")
        assert.deepStrictEqual(
          yield* store.getMany(["short", "never", "long", "short2"]),
          [undefined, { n: 2 }, { n: 3 }, undefined]
        )
      }))

    it.effect("a value without a JSON form, or a stored value that is not JSON: a PersistenceError that says so", () =>
      Effect.gen(function*() {
        const memcached = yield* Memcached
        const store = yield* backingStore(yield* newProcess, "bad-json")
        const unencodable = yield* Effect.flip(store.set("k", { n: 1n }, undefined))
        assert.instanceOf(unencodable, Persistence.PersistenceError)
        assert.match(unencodable.message, /^memcached persistence set failed: the value has no JSON form \(.*BigInt/)
        yield* store.set("k", { fine: true }, undefined)
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
  Layer.unwrap(
    Effect.map(MemcachedServer, (server) => Memcached.layer({ servers: server.address, keyPrefix }).pipe(Layer.orDie))
  )

persistenceContract(
  "MemcachedPersistence over real memcached",
  liveMemcached("persist4:").pipe(Layer.provideMerge(MemcachedServer.layer)),
  liveMemcached("persist4:"),
  true
)

/** A real memcached of its own, alive for the rest of the scope. */
const startMemcached = Effect.map(
  Layer.build(MemcachedServer.layer),
  (context) => Context.get(context, MemcachedServer)
)

/** A loopback port that accepts connections and never answers: a server that hangs (as a frozen memcached does). */
const silentServer = Effect.acquireRelease(
  Effect.callback<{ readonly server: net.Server; readonly sockets: Set<net.Socket> }>((resume) => {
    const sockets = new Set<net.Socket>()
    const server = net.createServer((socket) => {
      sockets.add(socket)
    })
    server.listen(0, "127.0.0.1", () => resume(Effect.succeed({ server, sockets })))
  }),
  ({ server, sockets }) =>
    Effect.callback<void>((resume) => {
      for (const socket of sockets) socket.destroy()
      server.close(() => resume(Effect.void))
    })
).pipe(Effect.map(({ server }) => `127.0.0.1:${(server.address() as net.AddressInfo).port}`))

describe("MemcachedPersistence, live", () => {
  it.live("two ManagedRuntimes (two processes) over one memcached: the lookup runs once", () =>
    Effect.gen(function*() {
      const server = yield* startMemcached
      const lookups = { count: 0 }
      const runtime = () =>
        ManagedRuntime.make(
          MemcachedPersistence.layer.pipe(Layer.provide(Memcached.layer({ servers: server.address }).pipe(Layer.orDie)))
        )
      const getIn = (runtime: ManagedRuntime.ManagedRuntime<Persistence.Persistence, never>, id: number) =>
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

  it.live("getMany over two servers: each key asked once, answers in key order", () =>
    Effect.gen(function*() {
      const servers = [yield* startMemcached, yield* startMemcached]
      const context = yield* Layer.build(
        MemcachedPersistence.layerBacking.pipe(
          Layer.provideMerge(Memcached.layer({ servers: servers.map((server) => server.address) }).pipe(Layer.orDie))
        )
      )
      const memcached = Context.get(context, Memcached)
      const store = yield* Effect.provide(
        Effect.flatMap(Persistence.BackingPersistence, (backing) => backing.make("two-servers")),
        context
      )
      const stat = (name: string) =>
        Effect.map(memcached.stats, (stats) => servers.map((server) => Number(stats.get(server.address)?.[name])))
      const keys = Array.from({ length: 60 }, (_, i) => `key-${i}`)
      const entries = keys.map((key) => [key, { key }, undefined] as const)
      yield* store.setMany([entries[0]!, ...entries.slice(1)])
      const items = yield* stat("curr_items")
      assert.isTrue(items.every((count) => count > 5), `values on both servers: ${items}`)
      assert.strictEqual(items[0]! + items[1]!, 61, "60 values and the store's version key")
      const getsBefore = yield* stat("cmd_get")
      const asked = keys.filter((_, i) => i % 2 === 0).reverse().concat(["absent"], keys.slice(0, 3))
      assert.deepStrictEqual<ReadonlyArray<object | undefined>>(
        yield* store.getMany([asked[0]!, ...asked.slice(1)]),
        asked.map((key) => key === "absent" ? undefined : { key })
      )
      const getsAfter = yield* stat("cmd_get")
      assert.strictEqual(
        getsAfter[0]! + getsAfter[1]! - getsBefore[0]! - getsBefore[1]!,
        new Set(asked).size,
        "each distinct key was asked once, over both servers"
      )
    }))

  for (
    const { name, reason, server } of [
      { name: "down (nothing listens)", reason: "Unavailable", server: Effect.succeed("127.0.0.1:1") },
      { name: "that never answers", reason: "Timeout", server: silentServer }
    ] as const
  ) {
    it.live(`a server ${name}: PersistedCache.get fails with a PersistenceError (${reason}) within the timeout`, () =>
      Effect.gen(function*() {
        const servers = yield* server
        const context = yield* Layer.build(
          MemcachedPersistence.layer.pipe(
            Layer.provide(Memcached.layer({ servers, timeout: "500 millis" }).pipe(Layer.orDie))
          )
        )
        const lookups = { count: 0 }
        const users = yield* Effect.provide(usersCache({ storeId: "down", lookups }), context)
        const started = Date.now()
        const error = yield* Effect.flip(users.get(new GetUser({ id: 1 })))
        const elapsed = Date.now() - started
        assert.instanceOf(error, Persistence.PersistenceError)
        const failure = error as Persistence.PersistenceError
        assert.instanceOf(failure.cause, MemcachedError)
        assert.strictEqual((failure.cause as MemcachedError).reason, reason)
        assert.match(
          failure.message,
          new RegExp(`^memcached persistence get failed: memcached ${reason} at 127\\.0\\.0\\.1:`)
        )
        assert.isTrue(elapsed < 5_000, `failed after ${elapsed} ms`)
        assert.strictEqual(lookups.count, 0, "the lookup did not run")
      }))
  }
})
