/**
 * When memcached misbehaves: the fault suites (`support/faultSuites.ts`: down, silent, killed and restarted, frozen,
 * closed under load) over the binary protocol, and what only binary has: a scripted binary server that answers out
 * of order, SASL credentials, memjs's logger.
 */
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Context, Effect, Exit, Layer, Logger, LogLevel, Option, Redacted } from "effect"
import * as Util from "node:util"
import { vi } from "vitest"
import { Cache, MemcachedError, MemcachedLive, type MemcachedOptions, Serializer } from "../src/index.js"
import { asciiGet } from "./support/asciiClient.js"
import { faultSuites } from "./support/faultSuites.js"
import { startMemcached } from "./support/MemcachedServer.js"
import { closedPort, getKHit, scriptedServer } from "./support/network.js"
import { elapsed, failureOf } from "./support/outcomes.js"
import { build } from "./support/services.js"

/** Builds `Cache.layerMemcached(options)` with the bytes serializer in the current scope. */
const open = (options: MemcachedOptions) => build(Cache.layerMemcached(options).pipe(Layer.provide(Serializer.bytes)))

describe("a server that is down or silent", () => {
  it.scopedLive("a server that answers two gets in the wrong order never gives one caller the other's value", () =>
    Effect.gen(function*() {
      const keyOf = (request: Buffer) => request.subarray(24, 24 + request.readUInt16BE(2)).toString()
      const swapping = yield* scriptedServer(
        2,
        (requests) => requests.map((request) => getKHit(request, Buffer.from(`value of ${keyOf(request)}`))).reverse()
      )
      const { cache } = yield* open({ servers: swapping.address, timeout: "300 millis" })
      const results = yield* Effect.all([elapsed(cache.get("first")), elapsed(cache.get("second"))], {
        concurrency: "unbounded"
      })
      // The answer to "second" came first: the connection cannot be trusted, and both fail at once.
      for (const { exit, millis } of results) {
        const error = failureOf(exit)
        assert.instanceOf(error, MemcachedError)
        assert.strictEqual(error.reason, "Protocol")
        assert.isBelow(millis, 250)
      }
    }))
})

describe("SASL", () => {
  const username = "app"
  const password = "pa55-w0rd-that-must-not-leak"

  it.scopedLive(
    "the right credentials work; a wrong password is Auth, not retried, and leaks nothing",
    () =>
      Effect.gen(function*() {
        const server = yield* startMemcached({ sasl: { username, password } })
        const good = yield* open({ servers: server.address, username, password: Redacted.make(password) })
        yield* good.cache.set("sasl", Buffer.from("ok"))
        assert.deepStrictEqual(
          Option.map(yield* good.cache.get("sasl"), (v) => Buffer.from(v as Uint8Array).toString()),
          Option.some("ok")
        )

        const logs: Array<string> = []
        const warnings: Array<string> = []
        const onWarning = (warning: Error) => warnings.push(warning.name)
        process.on("warning", onWarning)
        yield* Effect.addFinalizer(() => Effect.sync(() => process.off("warning", onWarning)))
        const wrongPassword = "Wr0ng-" + password
        const bad = yield* open({ servers: server.address, username, password: Redacted.make(wrongPassword) })
        const failures = yield* Effect.forEach(
          Array.from({ length: 50 }, (_, i) => i),
          (i) => elapsed(bad.cache.get(`sasl-${i}`))
        ).pipe(
          Effect.provide(Logger.replace(
            Logger.defaultLogger,
            Logger.make(({ annotations, message }) => {
              logs.push(Util.inspect({ message, annotations: [...annotations] }, { depth: 5 }))
            })
          )),
          Logger.withMinimumLogLevel(LogLevel.All)
        )
        for (const { exit, millis } of failures) {
          const error = failureOf(exit)
          assert.instanceOf(error, MemcachedError)
          assert.strictEqual(error.reason, "Auth")
          assert.isBelow(millis, 200)
          for (
            const text of [error.message, String(error), Util.inspect(error, { depth: 10 }), JSON.stringify(error)]
          ) {
            assert.notInclude(text, wrongPassword)
            assert.notInclude(text, password)
          }
        }
        assert.isAbove(logs.length, 0, "failures are logged at debug level")
        for (const line of logs) assert.notInclude(line, "Wr0ng")
        yield* Effect.sleep("50 millis")
        assert.deepStrictEqual(warnings, [])
      }),
    20_000
  )

  it.scopedLive("MemcachedLive takes SASL credentials from MEMCACHED_USERNAME and MEMCACHED_PASSWORD", () =>
    Effect.gen(function*() {
      const server = yield* startMemcached({ sasl: { username, password } })
      const env = (pass: string) =>
        Layer.setConfigProvider(ConfigProvider.fromMap(
          new Map([["MEMCACHED_SERVERS", server.address], ["MEMCACHED_USERNAME", username], [
            "MEMCACHED_PASSWORD",
            pass
          ]])
        ))
      const good = yield* Layer.build(MemcachedLive.pipe(Layer.provide(env(password))))
      const cache = Context.get(good, Cache)
      yield* cache.set("env-sasl", { ok: true })
      assert.deepStrictEqual(yield* cache.get("env-sasl"), Option.some({ ok: true }))

      const bad = yield* Layer.build(MemcachedLive.pipe(Layer.provide(env("not-" + password))))
      const error = failureOf(yield* Effect.exit(Context.get(bad, Cache).get("env-sasl")))
      assert.instanceOf(error, MemcachedError)
      assert.strictEqual(error.reason, "Auth")
      assert.notInclude(Util.inspect(error, { depth: 10 }), password)
    }))

  it.scopedLive("memjs's MEMCACHE_* and MEMCACHIER_* variables are never read", () =>
    Effect.gen(function*() {
      const secured = yield* startMemcached({ sasl: { username, password } })
      const plain = yield* startMemcached()
      const names = [
        "MEMCACHE_USERNAME",
        "MEMCACHE_PASSWORD",
        "MEMCACHIER_USERNAME",
        "MEMCACHIER_PASSWORD",
        "MEMCACHE_SERVERS",
        "MEMCACHIER_SERVERS"
      ] as const
      const saved = names.map((name) => [name, process.env[name]] as const)
      yield* Effect.addFinalizer(() =>
        Effect.sync(() => {
          for (const [name, value] of saved) {
            if (value === undefined) delete process.env[name]
            else process.env[name] = value
          }
        })
      )
      process.env.MEMCACHE_USERNAME = process.env.MEMCACHIER_USERNAME = username
      process.env.MEMCACHE_PASSWORD = process.env.MEMCACHIER_PASSWORD = password
      process.env.MEMCACHE_SERVERS = process.env.MEMCACHIER_SERVERS = secured.address

      const withoutCredentials = yield* open({ servers: secured.address })
      const error = failureOf(yield* Effect.exit(withoutCredentials.cache.get("env")))
      assert.instanceOf(error, MemcachedError)
      assert.strictEqual(error.reason, "Auth")

      const onPlain = yield* open({ servers: plain.address })
      yield* onPlain.memcached.set("env-server", Buffer.from("here"))
      assert.strictEqual(Option.getOrThrow(yield* asciiGet(plain.address, "env-server")).bytes.toString(), "here")
    }), 20_000)
})

describe("memjs stays quiet", () => {
  it.scopedLive("1,000 failing operations print nothing", () =>
    Effect.gen(function*() {
      const log = vi.spyOn(console, "log")
      const error = vi.spyOn(console, "error")
      const warn = vi.spyOn(console, "warn")
      yield* Effect.addFinalizer(() => Effect.sync(() => vi.restoreAllMocks()))
      const port = yield* closedPort
      const { cache } = yield* open({ servers: `127.0.0.1:${port}` })
      const exits = yield* Effect.forEach(Array.from({ length: 1000 }, (_, i) => i), (i) =>
        Effect.exit(cache.get(`q-${i}`)), {
        concurrency: 50
      })
      assert.isTrue(exits.every(Exit.isFailure))
      assert.strictEqual(log.mock.calls.length, 0)
      assert.strictEqual(error.mock.calls.length, 0)
      assert.strictEqual(warn.mock.calls.length, 0)
    }))
})

faultSuites("binary")
