/**
 * An ejected server comes back, whatever call is the first to try it: every kind of call (single keys, batches,
 * counters, namespaces, leases, requests to every server) is run as the first call after an outage, on one server and
 * in a pool, against real memcached processes that this file kills and restarts. Also the trial's life: one at a time,
 * given back when it fails, and when its caller stops waiting.
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Fiber, Layer, Option, Redacted } from "effect"
import { ketama } from "../src/engine/placement.js"
import {
  Cache,
  type CacheService,
  MemcachedCache,
  MemcachedError,
  type MemcachedOptions,
  type MemcachedService,
  Serializer
} from "../src/index.js"
import { type RunningServer, startMemcached } from "./support/MemcachedServer.js"
import { elapsed, failureOf } from "./support/outcomes.js"
import { build } from "./support/services.js"

const EJECT_FOR = 200

const options = (servers: ReadonlyArray<RunningServer>): MemcachedOptions => ({
  servers: servers.map((server) => server.address),
  timeout: "500 millis",
  ejectAfter: 2,
  ejectFor: `${EJECT_FOR} millis`
})

const open = (servers: ReadonlyArray<RunningServer>) =>
  build(Cache.layerMemcached(options(servers)).pipe(Layer.provide(Serializer.json)))

const bytes = (text: string) => Buffer.from(text)

/**
 * One kind of call: what it does, given a key that lives on the server under test (`on`), and keys on the other
 * servers of a pool (`elsewhere`, empty with one server). Each must succeed; its result is not looked at.
 */
type Call = (
  services: { readonly cache: CacheService; readonly memcached: MemcachedService },
  on: (name: string) => string,
  elsewhere: ReadonlyArray<string>
) => Effect.Effect<unknown, unknown>

const calls: Record<string, Call> = {
  "get": ({ cache }, on) => cache.get(on("get")),
  "getOrElse": ({ cache }, on) => cache.getOrElse(on("get"), () => 0),
  "set": ({ cache }, on) => cache.set(on("set"), 1),
  "has": ({ cache }, on) => cache.has(on("has")),
  "remove of one key": ({ cache }, on) => cache.remove(on("remove")),
  "remove of several keys": ({ cache }, on, elsewhere) => cache.remove(on("remove-a"), on("remove-b"), ...elsewhere),
  "getMany": ({ cache }, on, elsewhere) => cache.getMany([on("many-a"), on("many-b"), ...elsewhere]),
  "setMany": ({ cache }, on, elsewhere) =>
    cache.setMany([on("many-a"), on("many-b"), ...elsewhere].map((key) => [key, key])),
  "updateTimeout": ({ cache }, on) =>
    Effect.catchTag(cache.updateTimeout(on("touched"), "1 minute"), "CacheNotFound", () => Effect.void),
  "getOrSet": ({ cache }, on) => cache.getOrSet(on("computed"), Effect.succeed(1)),
  "getOrSet with a lease": ({ cache }, on) =>
    cache.getOrSet(on("leased"), Effect.succeed(1), { lease: { wait: "1 second", poll: "20 millis" } }),
  "namespace get": ({ cache }, on) => cache.namespace(on("ns")).get("k"),
  "namespace set": ({ cache }, on) => cache.namespace(on("ns")).set("k", 1),
  "namespace getMany": ({ cache }, on) => cache.namespace(on("ns")).getMany(["a", "b"]),
  "namespace clear": ({ cache }, on) => cache.namespace(on("ns")).clear,
  "increment": ({ memcached }, on) => memcached.increment(on("counter"), 1, { initial: 5 }),
  "decrement": ({ memcached }, on) => memcached.decrement(on("counter"), 1),
  "add": ({ memcached }, on) => memcached.add(on("added"), bytes("x")),
  "replace": ({ memcached }, on) => memcached.replace(on("replaced"), bytes("x")),
  "append": ({ memcached }, on) => memcached.append(on("appended"), bytes("x")),
  "touch": ({ memcached }, on) => memcached.touch(on("touched"), "1 minute"),
  "getAndTouch": ({ memcached }, on) => memcached.getAndTouch(on("touched"), "1 minute"),
  "getWithCas": ({ memcached }, on) => memcached.getWithCas(on("cas")),
  "update": ({ memcached }, on) => memcached.update(on("updated"), () => ({ value: bytes("u"), flags: 0 })),
  "delete": ({ memcached }, on) => memcached.delete(on("deleted")),
  "deleteMany": ({ memcached }, on, elsewhere) => memcached.deleteMany([on("del-a"), on("del-b"), ...elsewhere]),
  "version (every server)": ({ memcached }) => memcached.version,
  "stats (every server)": ({ memcached }) => memcached.stats
}

/** Kills `server` and fails requests to it (keys from `on`) until it is ejected (`ejectAfter: 2`). */
const eject = (server: RunningServer, cache: CacheService, on: (name: string) => string = (name) => name) =>
  Effect.gen(function*() {
    yield* server.kill()
    for (let i = 0; i < 2; i++) yield* Effect.exit(cache.get(on(`down-${i}`)))
  })

/** Ejects `server`, restarts it frozen (SIGSTOP), and waits out the ejection: the next call is its trial. */
const dueWhileFrozen = (server: RunningServer, cache: CacheService) =>
  Effect.gen(function*() {
    yield* eject(server, cache)
    yield* server.restart()
    yield* server.stop()
    yield* Effect.sleep(`${EJECT_FOR + 50} millis`)
  })

/**
 * Kills `down`, fails requests to it until it is ejected, restarts it, waits out the ejection and runs `first` as the
 * first call to reach it. Then it must be back in the pool: a write and a read of one of its keys, and a batch, succeed.
 */
const throughOutage = (
  services: { readonly cache: CacheService; readonly memcached: MemcachedService },
  down: RunningServer,
  on: (name: string) => string,
  elsewhere: ReadonlyArray<string>,
  name: string,
  first: Call
) =>
  Effect.gen(function*() {
    const { cache } = services
    yield* eject(down, cache, on)
    const refused = failureOf(yield* Effect.exit(cache.get(on("refused"))))
    assert.instanceOf(refused, MemcachedError)
    assert.include(refused.message, "ejected", `${name}: the server should be ejected`)
    yield* down.restart()
    yield* Effect.sleep(`${EJECT_FOR + 50} millis`)

    const exit = yield* Effect.exit(first(services, on, elsewhere))
    assert.isTrue(
      Exit.isSuccess(exit),
      `${name}, the first call after the outage: ${Exit.isFailure(exit) && Cause.pretty(exit.cause)}`
    )
    const afterwards = yield* Effect.exit(
      Effect.all([
        cache.set(on("after"), name),
        cache.get(on("after")),
        cache.getMany([on("after"), on("after-b"), ...elsewhere])
      ])
    )
    assert.isTrue(
      Exit.isSuccess(afterwards),
      `${name}, calls after the first: ${Exit.isFailure(afterwards) && Cause.pretty(afterwards.cause)}`
    )
    if (Exit.isSuccess(afterwards)) assert.deepStrictEqual(afterwards.value[1], Option.some(name))
  })

describe("an ejected server comes back whatever call tries it first", () => {
  it.scopedLive("one server: every kind of call, each as the first after an outage", () =>
    Effect.gen(function*() {
      const server = yield* startMemcached()
      const services = yield* open([server])
      for (const [name, call] of Object.entries(calls)) {
        yield* throughOutage(services, server, (key) => `${name}:${key}`.replaceAll(" ", "_"), [], name, call)
      }
    }), 60_000)

  it.scopedLive(
    "a pool of three, one down: every kind of call, each as the first after an outage",
    () =>
      Effect.gen(function*() {
        const servers = yield* Effect.all([startMemcached(), startMemcached(), startMemcached()])
        const services = yield* open(servers)
        const ring = ketama(servers.map((server) => ({ host: server.host, port: server.port, weight: 1 })))
        /** The first of `name:0`, `name:1`, … that lives on server `index`. */
        const keyOn = (index: number) => (name: string) => {
          for (let i = 0;; i++) {
            const key = `${name}:${i}`.replaceAll(" ", "_")
            if (ring.locate(key) === index) return key
          }
        }
        const elsewhere = [keyOn(0)("elsewhere"), keyOn(2)("elsewhere")]
        for (const [name, call] of Object.entries(calls)) {
          if (name.includes("every server")) continue // these need every server: the others test them
          yield* throughOutage(services, servers[1]!, keyOn(1), elsewhere, name, call)
        }
      }),
    60_000
  )

  it.scopedLive("the trial is one request at a time; the others fail fast meanwhile, and it is given back", () =>
    Effect.gen(function*() {
      const server = yield* startMemcached()
      const { cache } = yield* open([server])
      yield* dueWhileFrozen(server, cache)
      // the trial reaches a frozen server and waits; meanwhile every other call is refused at once
      const trial = yield* Effect.fork(elapsed(cache.getMany(["a", "b"])))
      yield* Effect.sleep("50 millis")
      const during = yield* elapsed(cache.set("c", 1))
      const refused = failureOf(during.exit)
      assert.instanceOf(refused, MemcachedError)
      assert.include(refused.message, "trial request is in flight")
      assert.isBelow(during.millis, 50)
      // the trial fails at its deadline, which gives it back: after another ejection period the next call is tried
      const failed = yield* Fiber.join(trial)
      assert.strictEqual((failureOf(failed.exit) as MemcachedError).reason, "Timeout")
      yield* server.resume()
      yield* Effect.sleep(`${EJECT_FOR + 50} millis`)
      yield* cache.set("c", 2)
      assert.deepStrictEqual(yield* cache.get("c"), Option.some(2))
    }))

  it.scopedLive("a trial whose caller stops waiting is given back when its request settles", () =>
    Effect.gen(function*() {
      const server = yield* startMemcached()
      const { cache } = yield* open([server])
      yield* dueWhileFrozen(server, cache)
      const interrupted = yield* Effect.exit(Effect.timeout(cache.get("a"), "30 millis"))
      assert.isTrue(Exit.isFailure(interrupted))
      // the request is still on the wire: when the server answers it, the server is back
      yield* server.resume()
      yield* Effect.sleep("100 millis")
      yield* cache.setMany([["a", 1], ["b", 2]])
      assert.deepStrictEqual(yield* cache.get("b"), Option.some(2))
    }))
  it.scopedLive("a trial that the server answers with a SASL rejection is given back too", () =>
    Effect.gen(function*() {
      const server = yield* startMemcached({ sasl: { username: "app", password: "right" } })
      const { cache } = yield* build(
        Cache.layerMemcached({ ...options([server]), username: "app", password: Redacted.make("wrong") }).pipe(
          Layer.provide(Serializer.json)
        )
      )
      yield* eject(server, cache)
      yield* server.restart()
      for (let attempt = 0; attempt < 3; attempt++) {
        yield* Effect.sleep(`${EJECT_FOR + 50} millis`)
        const error = failureOf(yield* Effect.exit(cache.get("a")))
        assert.instanceOf(error, MemcachedError)
        assert.strictEqual(error.reason, "Auth", `attempt ${attempt}: ${error.message}`)
      }
    }))
})

describe("the Promise facade through an outage (issue 17, item 1)", () => {
  it.scopedLive("a batch as the first call after the ejection period brings the server back", () =>
    Effect.gen(function*() {
      const server = yield* startMemcached()
      yield* server.kill()
      const rc = new MemcachedCache({ servers: server.address, serializer: "raw", ejectFor: "300 millis" })
      yield* Effect.addFinalizer(() => Effect.promise(() => rc.close()))
      for (let i = 0; i < 3; i++) yield* Effect.promise(() => rc.get("a").catch(() => undefined))
      const ejected = yield* Effect.promise(() => rc.get("a").then(() => undefined, (error: unknown) => error))
      assert.instanceOf(ejected, MemcachedError)
      assert.include((ejected as MemcachedError).message, "ejected")
      yield* server.restart()
      yield* Effect.sleep("400 millis")
      const found = yield* Effect.promise(() => rc.getMany(["a", "b"]))
      assert.strictEqual(found.size, 0)
      yield* Effect.promise(() => rc.set("a", "x"))
      assert.strictEqual(yield* Effect.promise(() => rc.get("a")), "x")
      yield* Effect.promise(() => rc.setMany({ a: "1", b: "2" }))
      assert.isTrue(yield* Effect.promise(() => rc.remove("a", "b")))
    }))
})
