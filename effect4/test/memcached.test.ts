/**
 * The Effect 4 line's `Memcached` layers: over a real memcached (`layer`, `layerConfig`, `layerClient`), over the
 * in-memory fake (`layerMemory`, on the `TestClock`), a server that is down, and options that fail the layer with a
 * `ConfigError` naming them. The behaviour of every operation is the contract suite's (`contract.*.test.ts`).
 */
import { assert, describe, it, layer } from "@effect/vitest"
import { Config, ConfigProvider, Duration, Effect, Layer, Option, Schedule } from "effect"
import { TestClock } from "effect/testing"
import memjs from "memjs"
import { InvalidArgument, InvalidKey, Memcached, MemcachedError } from "../src/index.js"
import { MemcachedServer } from "./support/MemcachedServer.js"

const bytes = (text: string) => new TextEncoder().encode(text)
const text = (item: Option.Option<{ readonly value: Uint8Array }>) =>
  Option.match(item, { onNone: () => undefined, onSome: ({ value }) => new TextDecoder().decode(value) })

/** A closed loopback port: a server that is down. */
const closedPort = "127.0.0.1:1"

/** The operations every layer must do alike. */
const roundTrip = Effect.gen(function*() {
  const memcached = yield* Memcached
  const key = `rt-${Math.random().toString(36).slice(2)}`
  yield* memcached.set(key, bytes("one"), { ttl: "1 minute", flags: 7 })
  const item = yield* memcached.get(key)
  assert.strictEqual(text(item), "one")
  assert.strictEqual(Option.getOrThrow(item).flags, 7)
  assert.isFalse(yield* memcached.add(key, bytes("two")))
  assert.isTrue(yield* memcached.replace(key, bytes("two")))
  assert.isTrue(yield* memcached.append(key, bytes("!")))
  assert.strictEqual(text(yield* memcached.get(key)), "two!")
  const cas = Option.getOrThrow(yield* memcached.getWithCas(key)).cas
  assert.isTrue(yield* memcached.compareAndSet(key, bytes("three"), cas))
  assert.isFalse(yield* memcached.compareAndSet(key, bytes("four"), cas))
  assert.deepStrictEqual(yield* memcached.increment(`${key}:n`, 5n, { initial: 10n }), Option.some(10n))
  assert.deepStrictEqual(yield* memcached.increment(`${key}:n`, 5), Option.some(15n))
  assert.deepStrictEqual(yield* memcached.decrement(`${key}:n`, 100), Option.some(0n))
  const many = yield* memcached.getMany([key, `${key}:n`, `${key}:missing`])
  assert.deepStrictEqual(Array.from(many.keys()).sort(), [key, `${key}:n`].sort())
  assert.strictEqual(yield* memcached.deleteMany([key, `${key}:n`, `${key}:missing`]), 2)
  assert.isTrue(Option.isNone(yield* memcached.get(key)))
  const badKey = yield* Effect.flip(memcached.get("has space"))
  assert.instanceOf(badKey, InvalidKey)
  const badTtl = yield* Effect.flip(memcached.set(key, bytes("v"), { ttl: 300 as never }))
  assert.instanceOf(badTtl, InvalidArgument)
  assert.include(badTtl.message, `"300 seconds"`)
})

describe("Memcached (Effect 4) over a real memcached", () => {
  layer(MemcachedServer.layer, { excludeTestServices: true })((it) => {
    it.effect("Memcached.layer: every kind of operation, then version and stats by host:port", () =>
      Effect.gen(function*() {
        const server = yield* MemcachedServer
        yield* Effect.gen(function*() {
          yield* roundTrip
          const memcached = yield* Memcached
          const versions = yield* memcached.version
          assert.match(versions.get(server.address) ?? "", /^1\.\d+\.\d+/)
          assert.isDefined((yield* memcached.stats).get(server.address)?.["curr_connections"])
        }).pipe(Effect.provide(Memcached.layer({ servers: server.address, checkOnStart: true })))
      }))

    it.effect("protocol: \"meta\": the same operations over memcached's meta protocol", () =>
      Effect.gen(function*() {
        const server = yield* MemcachedServer
        yield* roundTrip.pipe(Effect.provide(Memcached.layer({ servers: server.address, protocol: "meta" })))
      }))

    it.effect("Memcached.layerConfig reads its options from a Config", () =>
      Effect.gen(function*() {
        const server = yield* MemcachedServer
        const config = Config.all({ servers: Config.String("SERVERS"), keyPrefix: Config.String("PREFIX") })
        yield* roundTrip.pipe(
          Effect.provide(
            Memcached.layerConfig(config).pipe(
              Layer.provide(
                ConfigProvider.layer(ConfigProvider.fromEnv({ env: { SERVERS: server.address, PREFIX: "c:" } }))
              )
            )
          )
        )
      }))

    it.effect("Memcached.layerClient runs over a memjs client you built, and leaves it open on release", () =>
      Effect.gen(function*() {
        const server = yield* MemcachedServer
        const client = memjs.Client.create(server.address, { logger: { log: () => {} } })
        yield* roundTrip.pipe(Effect.provide(Memcached.layerClient(client)))
        const [value] = yield* Effect.promise(() =>
          client.set("brought", "still open", {}).then(() => client.get("brought"))
        ).pipe(Effect.map(({ value }) => [value?.toString()]))
        assert.strictEqual(value, "still open")
        client.close()
      }))
  })
})

describe("Memcached (Effect 4): a server that is down, bad options", () => {
  it.effect("a down server: the layer builds, each operation fails with MemcachedError Unavailable", () =>
    Effect.gen(function*() {
      const memcached = yield* Memcached
      const error = yield* Effect.flip(memcached.get("k"))
      assert.instanceOf(error, MemcachedError)
      assert.strictEqual(error._tag, "MemcachedError")
      assert.strictEqual(error.reason, "Unavailable")
      assert.strictEqual(error.server, closedPort)
    }).pipe(Effect.provide(Memcached.layer({ servers: closedPort, retry: Schedule.recurs(0) }))))

  it.effect("checkOnStart: a down server fails the layer with MemcachedError", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Layer.build(Memcached.layer({ servers: closedPort, checkOnStart: true })))
      assert.instanceOf(error, MemcachedError)
    }))

  it.effect("a bad option fails the layer with a ConfigError that names it", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [Parameters<typeof Memcached.layer>[0], string]> = [
        [{ timeout: 500 as never }, `timeout is a bare number (500), which has no unit: write "500 seconds"`],
        [{ servers: "localhost:99999" }, "servers: bad port"],
        [{ defaultTtl: Duration.zero }, "defaultTtl is zero or negative"],
        [{ keyPrefix: "has space" }, "keyPrefix"],
        [{ ejectAfter: 0 }, "ejectAfter must be a number of failures"],
        [{ password: "secret" as never }, "password must be a Redacted string"],
        [{ protocol: "ascii" as never }, "protocol"],
        [{ tls: "yes" as never }, "tls"]
      ]
      for (const [options, expected] of cases) {
        const error = yield* Effect.flip(Layer.build(Memcached.layer(options)))
        assert.instanceOf(error, Config.ConfigError)
        assert.include(error.message, expected)
        assert.notInclude(error.message, "secret")
      }
      const memory = yield* Effect.flip(Layer.build(Memcached.layerMemory({ maxItemSize: 10 })))
      assert.include(memory.message, "maxItemSize must be a whole number of bytes")
    }))
})

describe("Memcached (Effect 4) over the in-memory fake", () => {
  it.effect("Memcached.layerMemory: the same operations; TTLs follow the TestClock", () =>
    Effect.gen(function*() {
      yield* roundTrip
      const memcached = yield* Memcached
      yield* memcached.set("ttl", bytes("v"), { ttl: "10 seconds" })
      yield* TestClock.adjust("9 seconds")
      assert.strictEqual(text(yield* memcached.get("ttl")), "v")
      yield* TestClock.adjust("1 second")
      assert.isTrue(Option.isNone(yield* memcached.get("ttl")))
    }).pipe(Effect.provide(Memcached.layerMemory())))
})
