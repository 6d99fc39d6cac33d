/**
 * The facade's units and options: every bare number is seconds (method TTLs, `defaultTtl`, `timeout`, lease
 * options), duration strings work too, a bad option throws a `TypeError` naming it from the constructor, and without
 * `servers` the facade reads the same environment as `MemcachedLive`. TTLs on the real server are read back with
 * memcached's meta command `mg <key> t`.
 */
import { Effect, Exit, Option, Scope } from "effect"
import { setTimeout as sleep } from "node:timers/promises"
import { afterAll, afterEach, assert, beforeAll, describe, it } from "vitest"
import {
  InvalidArgument,
  InvalidKey,
  MemcachedCache,
  type MemcachedCacheOptions,
  MemcachedError,
  MemcachedTest
} from "../src/index.js"
import { asciiGet } from "./support/asciiClient.js"
import { assertTtl as assertTtlOf, metaTtl as metaTtlOf, rejection } from "./support/facade.js"
import { type RunningServer, startMemcached } from "./support/MemcachedServer.js"
import { silentServer, type TestServer } from "./support/network.js"

const scope = Effect.runSync(Scope.make())
let server: RunningServer
let silent: TestServer
beforeAll(async () => {
  server = await Effect.runPromise(Scope.extend(startMemcached(), scope))
  silent = await Effect.runPromise(Scope.extend(silentServer, scope))
})
afterAll(() => Effect.runPromise(Scope.close(scope, Exit.void)))

const opened: Array<MemcachedCache> = []
afterEach(async () => {
  await Promise.all(opened.splice(0).map((cache) => cache.close()))
})
const track = (cache: MemcachedCache) => {
  opened.push(cache)
  return cache
}

const metaTtl = (wireKey: string) => metaTtlOf(server, wireKey)
const assertTtl = (wireKey: string, expected: number) => assertTtlOf(server, wireKey, expected)

const PREFIX = "facade-units:"
const make = (options: MemcachedCacheOptions = {}) =>
  track(new MemcachedCache({ servers: server.address, keyPrefix: PREFIX, ...options }))

describe("the facade: every bare number is seconds", () => {
  it("defaultTtl: 3 keeps a key for 3 seconds (not 3 ms)", async () => {
    const rc = make({ defaultTtl: 3 })
    await rc.set("default-3", "v")
    await assertTtl(`${PREFIX}default-3`, 3)
    await sleep(1500)
    assert.strictEqual(await rc.get("default-3"), "v", "still there after 1.5 s")
    // A 3 s item dies within (2, 3] s of memcached's clock, which itself lags the wall clock by up to a second.
    await sleep(2600)
    assert.isUndefined(await rc.get("default-3"), "gone after 4.1 s")
  })

  it("defaultTtl, method TTLs and cached TTLs take seconds or a duration with its unit", async () => {
    const rc = make({ defaultTtl: "2 minutes" })
    await rc.set("default-str", "v")
    await assertTtl(`${PREFIX}default-str`, 120)
    await rc.set("method-str", "v", "90 seconds")
    await assertTtl(`${PREFIX}method-str`, 90)
    await rc.setMany([["many-str", "v"]], "45 seconds")
    await assertTtl(`${PREFIX}many-str`, 45)
    assert.strictEqual(await rc.updateTimeout("method-str", 30), "v")
    await assertTtl(`${PREFIX}method-str`, 30)
    const memo = rc.cached((n: number) => n * 2, { key: "cached-ttl", ttl: 40 })
    assert.strictEqual(await memo(2), 4)
    await assertTtl(`${PREFIX}cached-ttl:[2]`, 40)
    assert.strictEqual(await rc.getOrSet("gos-str", "v", "1 minute"), "v")
    await assertTtl(`${PREFIX}gos-str`, 60)
    const never = make({ defaultTtl: null })
    await never.set("default-null", "v")
    assert.strictEqual(await metaTtl(`${PREFIX}default-null`), -1)
  })

  it("timeout: 0.5 is half a second: a silent server gives Timeout after about 500 ms (not 0.5 ms)", async () => {
    const rc = track(new MemcachedCache({ servers: silent.address, timeout: 0.5 }))
    const start = Date.now()
    const error = await rejection(rc.get("timeout-seconds"), MemcachedError)
    const elapsed = Date.now() - start
    assert.strictEqual(error.reason, "Timeout")
    assert.isAtLeast(elapsed, 450)
    assert.isBelow(elapsed, 3000)
  })

  it("lease options are seconds: a waiter with wait: 2 gets the holder's value instead of computing", async () => {
    // Two instances (two runtimes) share nothing but the server, so only the lease can keep B from computing.
    const a = make()
    const b = make()
    let computed = 0
    const slow = async () => {
      computed++
      await sleep(300)
      return "from the holder"
    }
    const options = { key: "lease-seconds", lease: { wait: 2, poll: 0.02, ttl: 5 } }
    const first = a.cached(slow, options)()
    await sleep(50)
    const second = b.cached(slow, options)()
    assert.deepStrictEqual(await Promise.all([first, second]), ["from the holder", "from the holder"])
    assert.strictEqual(computed, 1)
  })

  it("a TTL that is not one rejects with InvalidArgument; NaN with a TypeError; neither throws synchronously", async () => {
    const rc = make()
    const calls: ReadonlyArray<readonly [() => Promise<unknown>, new(...args: Array<any>) => Error]> = [
      [() => rc.set("bad-ttl", 1, "soon" as "1 second"), InvalidArgument],
      [() => rc.getOrSet("bad-ttl", 1, { seconds: 5 } as unknown as number), InvalidArgument],
      [() => rc.set("bad-ttl", 1, Number.NaN), TypeError],
      [() => rc.cached(() => 1, { key: "bad-lease", lease: { poll: 0 } })(), InvalidArgument]
    ]
    for (const [call, type] of calls) {
      let promise: Promise<unknown> | undefined
      assert.doesNotThrow(() => {
        promise = call()
        promise.catch(() => {})
      })
      await rejection(promise!, type)
    }
    assert.isUndefined(await rc.get("bad-ttl"))
  })

  it("a key that is not a string rejects with InvalidKey, whatever the value (never a ParseError)", async () => {
    for (const rc of [make(), track(new MemcachedCache({ layer: MemcachedTest }))]) {
      const error = await rejection(rc.set(5 as unknown as string, () => 1), InvalidKey)
      assert.strictEqual(error.key, "5")
      await rejection(rc.setMany([[null as unknown as string, () => 1]]), InvalidKey)
    }
  })
})

describe("the facade's options: a bad one throws a TypeError naming it, at construction", () => {
  it("bad servers, durations and other options", () => {
    const cases: ReadonlyArray<readonly [string, MemcachedCacheOptions]> = [
      ["servers", { servers: "cache:port" }],
      ["servers", { servers: 11211 as unknown as string }],
      ["servers", { servers: "alice:s3cret-pw@cache:11211" }],
      ["servers", { servers: " , " }],
      ["timeout", { timeout: 0 }],
      ["timeout", { timeout: -1 }],
      ["timeout", { timeout: Infinity }],
      ["timeout", { timeout: Number.NaN }],
      ["timeout", { timeout: "soon" as "1 second" }],
      ["defaultTtl", { defaultTtl: 0 }],
      ["defaultTtl", { defaultTtl: -5 }],
      ["ejectFor", { ejectFor: Infinity }],
      ["ejectAfter", { ejectAfter: 0 }],
      ["keyPrefix", { keyPrefix: "my app:" }],
      ["maxItemSize", { maxItemSize: 1 }],
      ["placement", { placement: "nearest" as "modulo" }],
      ["serializer", { serializer: "pickle" as "json" }]
    ]
    for (const [option, options] of cases) {
      const withServers = { servers: "127.0.0.1:11211", ...options }
      assert.throws(() => new MemcachedCache(withServers), TypeError, option, JSON.stringify(options))
      try {
        new MemcachedCache(withServers)
      } catch (error) {
        assert.notInclude(String(error), "s3cret-pw")
      }
    }
    assert.throws(
      () => new MemcachedCache({ servers: "127.0.0.1:11211", timeout: -1 }),
      TypeError,
      "timeout must be a positive, finite duration, got zero or a negative duration"
    )
  })

  it("namespace versionTtl: seconds or a duration; anything else throws a TypeError naming it", async () => {
    const rc = track(new MemcachedCache({ layer: MemcachedTest }))
    for (const versionTtl of [0, 1.5, "2 seconds"] as const) {
      const users = rc.namespace("units-users", { versionTtl })
      await users.set("1", "ada")
      assert.strictEqual(await users.get("1"), "ada")
    }
    for (const versionTtl of [Number.NaN, "soon" as "1 second", { seconds: 1 } as unknown as number]) {
      assert.throws(() => rc.namespace("units-users", { versionTtl }), TypeError, "versionTtl")
    }
  })

  it("good options construct without connecting", () => {
    for (
      const options of [
        { timeout: 2, defaultTtl: 300, ejectFor: 0.5 },
        { timeout: "2 seconds", defaultTtl: "5 minutes", ejectFor: "500 millis" },
        { defaultTtl: null, servers: ["[::1]:11211", "cache:11211:2"] }
      ] satisfies ReadonlyArray<MemcachedCacheOptions>
    ) {
      assert.doesNotThrow(() => new MemcachedCache({ servers: "127.0.0.1:11211", ...options }))
    }
  })
})

describe("the facade without servers reads the environment, as MemcachedLive does", () => {
  const VARIABLES = [
    "MEMCACHED_SERVERS",
    "MEMCACHED_USERNAME",
    "MEMCACHED_PASSWORD",
    "MEMCACHED_TIMEOUT",
    "CACHE_DEFAULT_TTL",
    "CACHE_KEY_PREFIX",
    "CACHE_HASH_LONG_KEYS"
  ] as const
  /** Runs `f` with exactly these of our variables set (the others unset), and puts the environment back after. */
  const withEnv = async (env: Partial<Record<(typeof VARIABLES)[number], string>>, f: () => Promise<void> | void) => {
    const saved = new Map(VARIABLES.map((name) => [name, process.env[name]]))
    for (const name of VARIABLES) delete process.env[name]
    Object.assign(process.env, env)
    try {
      await f()
    } finally {
      for (const [name, value] of saved) {
        if (value === undefined) delete process.env[name]
        else process.env[name] = value
      }
    }
  }

  it("MEMCACHED_SERVERS, CACHE_KEY_PREFIX and CACHE_DEFAULT_TTL (seconds) are used", () =>
    withEnv({ MEMCACHED_SERVERS: server.address, CACHE_KEY_PREFIX: "envfacade:", CACHE_DEFAULT_TTL: "7" }, async () => {
      const rc = track(new MemcachedCache())
      await rc.set("from-env", "v")
      assert.strictEqual(await rc.get("from-env"), "v")
      assert.isTrue(Option.isSome(await Effect.runPromise(asciiGet(server.address, "envfacade:from-env"))))
      await assertTtl("envfacade:from-env", 7)
    }))

  it("options given override the environment, one by one; with servers, the environment is not read", () =>
    withEnv(
      { MEMCACHED_SERVERS: server.address, CACHE_KEY_PREFIX: "envfacade:", MEMCACHED_TIMEOUT: "0.001" },
      async () => {
        const rc = track(new MemcachedCache({ keyPrefix: "given:", timeout: 1 }))
        await rc.set("override", "v")
        assert.isTrue(Option.isSome(await Effect.runPromise(asciiGet(server.address, "given:override"))))
        const own = track(new MemcachedCache({ servers: server.address }))
        await own.set("no-env", "v")
        assert.isTrue(Option.isSome(await Effect.runPromise(asciiGet(server.address, "no-env"))))
      }
    ))

  it("a bad variable throws a TypeError naming it", async () => {
    for (
      const env of [
        { MEMCACHED_TIMEOUT: "0" },
        { MEMCACHED_TIMEOUT: "soon" },
        { CACHE_DEFAULT_TTL: "0" },
        { MEMCACHED_SERVERS: "cache:port" },
        { CACHE_HASH_LONG_KEYS: "perhaps" },
        { CACHE_KEY_PREFIX: "my app:" }
      ]
    ) {
      await withEnv(env, () => {
        const [name] = Object.keys(env)
        assert.throws(() => new MemcachedCache(), TypeError, name)
      })
    }
  })
})
