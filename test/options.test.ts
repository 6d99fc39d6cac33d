/**
 * Options and odd input: every bad layer option fails the layer with a `ConfigError` that names it (a bare number
 * where a duration needs its unit is also a type error), the environment gets the same checks, a key that is not a
 * string is `InvalidKey` before its value is looked at, and our errors can be built from anything without throwing.
 */
import { assert, describe, it } from "@effect/vitest"
import type { Redacted } from "effect"
import { Cause, ConfigError, ConfigProvider, Duration, Effect, Exit, Layer, Schema } from "effect"
import type { Memcached } from "../src/index.js"
import {
  Cache,
  CacheNotFound,
  InvalidArgument,
  InvalidKey,
  memcachedEnvConfig,
  MemcachedError,
  MemcachedTest,
  SerializationError,
  Serializer,
  ValueTooLarge
} from "../src/index.js"
import { layerKeyValueStore } from "../src/KeyValueStore.js"
import { build } from "./support/services.js"

/** Builds `layer` and returns the `ConfigError` it must fail with (a defect or success fails the test). */
const configErrorOf = <E>(layer: Layer.Layer<Cache | Memcached, E>) =>
  Effect.gen(function*() {
    const exit = yield* Effect.exit(Effect.scoped(build(layer)))
    if (Exit.isSuccess(exit)) return assert.fail("the layer was built")
    const failure = Cause.failureOption(exit.cause)
    if (failure._tag === "None") return assert.fail(`not a typed failure: ${Cause.pretty(exit.cause)}`)
    assert.isTrue(ConfigError.isConfigError(failure.value), String(failure.value))
    return failure.value as ConfigError.ConfigError
  })

const real = (options: Parameters<typeof Memcached.layer>[0]) =>
  Cache.layerMemcached(options).pipe(Layer.provide(Serializer.structured))
const memory = (options: Parameters<typeof Memcached.layerMemory>[0]) =>
  Cache.layerMemory(options).pipe(Layer.provide(Serializer.structured))

describe("layer options", () => {
  it.effect("bare-number timeout, defaultTtl, ejectFor, versionTtl: a type error, forced through a ConfigError", () =>
    Effect.gen(function*() {
      const timeout = yield* configErrorOf(real({
        // @ts-expect-error a bare number has no unit
        timeout: 2
      }))
      assert.include(timeout.message, "timeout")
      assert.include(timeout.message, `write "2 seconds" or Duration.seconds(2)`)
      const defaultTtl = yield* configErrorOf(real({
        // @ts-expect-error a bare number has no unit
        defaultTtl: 300
      }))
      assert.include(defaultTtl.message, `defaultTtl is a bare number (300)`)
      assert.include(defaultTtl.message, `write "300 seconds" or Duration.seconds(300)`)
      const ejectFor = yield* configErrorOf(real({
        // @ts-expect-error a bare number has no unit
        ejectFor: 1000
      }))
      assert.include(ejectFor.message, `ejectFor is a bare number (1000)`)
      const memoryTtl = yield* configErrorOf(memory({
        // @ts-expect-error a bare number has no unit
        defaultTtl: 300
      }))
      assert.include(memoryTtl.message, `write "300 seconds"`)
      const cache = yield* Effect.provide(Cache, MemcachedTest)
      assert.throws(
        () =>
          cache.namespace("units", {
            // @ts-expect-error a bare number has no unit
            versionTtl: 1
          }),
        TypeError,
        `versionTtl is a bare number (1), which has no unit: write "1 second" or Duration.seconds(1)`
      )
      const kv = layerKeyValueStore({
        namespace: "units",
        // @ts-expect-error a bare number has no unit
        versionTtl: 1
      })
      assert.isTrue(Layer.isLayer(kv))
    }))

  it.effect("every other bad option is a ConfigError naming it, not a defect", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [string, Layer.Layer<Cache | Memcached, unknown>]> = [
        ["servers", real({ servers: "cache:port" })],
        ["servers", real({ servers: 11211 as unknown as string })],
        ["servers", real({ servers: [null as unknown as string] })],
        ["servers", real({ servers: [{ host: "cache", port: 11211n as unknown as number }] })],
        ["servers", real({ servers: "[cache]:11211" })],
        ["servers", real({ servers: [{ host: "a:1:2" }] })],
        ["timeout", real({ timeout: Duration.zero })],
        ["timeout", real({ timeout: Duration.infinity })],
        ["timeout", real({ timeout: "soon" as Duration.DurationInput as "1 second" })],
        ["defaultTtl", real({ defaultTtl: Duration.zero })],
        ["defaultTtl", memory({ defaultTtl: "-5 seconds" })],
        ["keyPrefix", memory({ keyPrefix: "my app:" })],
        ["keyPrefix", memory({ keyPrefix: 5 as unknown as string })],
        ["maxItemSize", memory({ maxItemSize: 10 })],
        ["retry", memory({ retry: "twice" as never })],
        ["ejectAfter", real({ ejectAfter: 0 })],
        ["ejectFor", real({ ejectFor: Duration.infinity })],
        ["placement", real({ placement: "round-robin" as "modulo" })],
        ["username", real({ username: 5 as unknown as string })],
        ["password", real({ password: "s3cret-pw" as unknown as Redacted.Redacted })],
        ["protocol", real({ protocol: "ascii" as "meta" })]
      ]
      for (const [option, layer] of cases) {
        const error = yield* configErrorOf(layer)
        assert.isTrue(error.message.startsWith(option), `${option}: ${error.message}`)
        assert.notInclude(error.message, "s3cret-pw")
      }
    }))

  it.scoped("good options still build: durations with units, null defaultTtl, IPv6 in brackets", () =>
    Effect.gen(function*() {
      const { cache } = yield* build(memory({ defaultTtl: null }))
      yield* cache.set("options-null-ttl", "v")
      assert.isTrue(yield* cache.has("options-null-ttl"))
      yield* build(real({
        servers: ["[::1]:11211", { host: "::1", port: 11212 }],
        timeout: [0, 500_000_000],
        ejectFor: Duration.seconds(2),
        defaultTtl: "1 minute"
      }))
    }))
})

describe("the environment (MemcachedLive)", () => {
  const readConfig = (env: Record<string, string>) =>
    Effect.withConfigProvider(memcachedEnvConfig, ConfigProvider.fromMap(new Map(Object.entries(env))))

  it.effect("MEMCACHED_TIMEOUT=0, CACHE_DEFAULT_TTL=0 and an unknown MEMCACHED_PROTOCOL are ConfigErrors naming the variable", () =>
    Effect.gen(function*() {
      for (
        const [name, value] of [
          ["MEMCACHED_TIMEOUT", "0"],
          ["MEMCACHED_TIMEOUT", "0 seconds"],
          ["MEMCACHED_TIMEOUT", "-5 seconds"],
          ["CACHE_DEFAULT_TTL", "0"],
          ["MEMCACHED_PROTOCOL", "text"]
        ] as const
      ) {
        const error = yield* Effect.flip(readConfig({ [name]: value }))
        assert.isTrue(ConfigError.isConfigError(error))
        assert.include(String(error), name)
      }
    }))

  it.effect("MEMCACHED_PROTOCOL chooses the wire dialect, binary when unset", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* readConfig({})).protocol, "binary")
      assert.strictEqual((yield* readConfig({ MEMCACHED_PROTOCOL: "meta" })).protocol, "meta")
    }))
})

describe("keys that are not strings, and our errors on odd input", () => {
  it.effect("set(5, a function): InvalidKey, before the value is looked at, in the Effect API", () =>
    Effect.gen(function*() {
      const cache = yield* Cache
      const asKey = (value: unknown) => value as string
      for (const key of [5, null, undefined, Symbol("k"), { k: 1 }, Object.create(null)]) {
        assert.instanceOf(yield* Effect.flip(cache.set(asKey(key), () => 1)), InvalidKey)
        assert.instanceOf(yield* Effect.flip(cache.setMany([[asKey(key), () => 1]])), InvalidKey)
        assert.instanceOf(yield* Effect.flip(cache.getOrSet(asKey(key), Effect.succeed(() => 1))), InvalidKey)
        assert.instanceOf(yield* Effect.flip(cache.typed(Schema.Number).set(asKey(key), 1)), InvalidKey)
      }
    }).pipe(Effect.provide(MemcachedTest)))

  it.scoped("a serializer of your own that throws gives a SerializationError, not a throw", () =>
    Effect.gen(function*() {
      const throwing = Serializer.of({
        ...Serializer.formats.json,
        encode: () => {
          throw new Error("encoder exploded")
        }
      })
      const { cache } = yield* build(Cache.layerMemory().pipe(Layer.provide(Layer.succeed(Serializer, throwing))))
      const error = yield* Effect.flip(cache.set("throwing-serializer", 1))
      assert.instanceOf(error, SerializationError)
      assert.include(error.message, "encoder exploded")
    }))

  it("no error of ours throws when built from odd input; a key is kept as a string", () => {
    const odd: ReadonlyArray<unknown> = [5, null, undefined, Symbol("k"), { k: 1 }, Object.create(null), 1n, () => 1]
    for (const key of odd) {
      const errors = [
        new CacheNotFound({ key }),
        new InvalidKey({ key, reason: "odd" }),
        new ValueTooLarge({ key: key as string, size: 1, limit: 0 }),
        new SerializationError({ key, direction: "encode", cause: key }),
        new InvalidArgument({ argument: "ttl", reason: "odd", key }),
        new MemcachedError({ reason: "Protocol", detail: key as string, server: key as string })
      ]
      for (const error of errors) {
        assert.isString(error.message)
        if ("key" in error && error.key !== undefined) assert.isString(error.key)
      }
    }
    assert.strictEqual(new InvalidKey({ key: 5, reason: "odd" }).key, "5")
    assert.strictEqual(new InvalidKey({ key: Object.create(null), reason: "odd" }).key, "[object Object]")
    assert.isUndefined(new InvalidArgument({ argument: "ttl", reason: "odd" }).key)
  })

  it("the errors still encode and decode through their schemas", () => {
    const error = new InvalidArgument({ argument: "ttl", reason: "is a bare number", key: "k" })
    const decoded = Schema.decodeUnknownSync(InvalidArgument)(Schema.encodeSync(InvalidArgument)(error))
    assert.instanceOf(decoded, InvalidArgument)
    assert.strictEqual(decoded.message, error.message)
    const key = Schema.decodeUnknownSync(InvalidKey)(
      Schema.encodeSync(InvalidKey)(new InvalidKey({ key: 7, reason: "r" }))
    )
    assert.strictEqual(key.key, "7")
  })
})
