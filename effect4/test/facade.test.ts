/**
 * The Effect 4 line's Promise facade `MemcachedCache`, as plain async code uses it: against a real memcached (started
 * for this file), over `MemcachedTest`, and with options or environment variables that it refuses.
 */
import { Effect, Exit, Layer, Scope } from "effect"
import { afterAll, afterEach, assert, beforeAll, describe, it } from "vitest"
import { CacheNotFound, InvalidKey, MemcachedCache, MemcachedError, MemcachedTest } from "../src/index.js"
import type { RunningServer } from "./support/MemcachedServer.js"
import { MemcachedServer } from "./support/MemcachedServer.js"

const scope = Effect.runSync(Scope.make())
let server: RunningServer
beforeAll(async () => {
  const context = await Effect.runPromise(Layer.buildWithScope(MemcachedServer.layer, scope))
  server = await Effect.runPromise(Effect.provideContext(MemcachedServer, context))
})
afterAll(() => Effect.runPromise(Scope.close(scope, Exit.void)))

const opened: Array<MemcachedCache> = []
afterEach(async () => {
  await Promise.all(opened.splice(0).map((cache) => cache.close()))
})
const open = (cache: MemcachedCache) => {
  opened.push(cache)
  return cache
}

const rejection = async (promise: Promise<unknown>): Promise<unknown> => {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error("expected a rejection")
}

describe("MemcachedCache (Effect 4) over a real memcached", () => {
  it("get, set, remove, getOrSet, getMany, setMany, updateTimeout: privex's methods with Promises", async () => {
    const cache = open(new MemcachedCache({ servers: server.address, keyPrefix: "f4:" }))
    await cache.connect()
    await cache.set("a", { n: 1, when: new Date(0) }, 60)
    assert.deepStrictEqual(await cache.get("a"), { n: 1, when: new Date(0) })
    assert.strictEqual(await cache.get("missing", "fallback"), "fallback")
    const notFound = await rejection(cache.get("missing", undefined, true))
    assert.instanceOf(notFound, CacheNotFound)
    assert.strictEqual((notFound as CacheNotFound).key, "missing")
    let calls = 0
    const compute = async () => ++calls
    const results = await Promise.all(Array.from({ length: 5 }, () => cache.getOrSet("computed", compute)))
    assert.deepStrictEqual(results, [1, 1, 1, 1, 1])
    assert.strictEqual(calls, 1)
    await cache.setMany({ x: 1, y: 2 }, "1 minute")
    assert.deepStrictEqual(await cache.getMany(["x", "y", "z"]), new Map([["x", 1], ["y", 2]]))
    assert.strictEqual(await cache.updateTimeout("x", null), 1)
    assert.isTrue(await cache.remove("x", "y"))
    assert.isFalse(await cache.has("x"))
    assert.instanceOf(await rejection(cache.get("has space")), InvalidKey)
  })

  it("cached memoizes an async function; namespaces clear on their own", async () => {
    const cache = open(new MemcachedCache({ servers: server.address, keyPrefix: "f4c:" }))
    let calls = 0
    const square = cache.cached(async (n: number) => {
      calls++
      return n * n
    }, { key: "square", ttl: 60 })
    assert.strictEqual(await square(3), 9)
    assert.strictEqual(await square(3), 9)
    assert.strictEqual(calls, 1)
    const users = cache.namespace("users")
    await users.set("1", "ada")
    await cache.set("1", "plain")
    assert.strictEqual(await users.get("1"), "ada")
    await users.clear()
    assert.isUndefined(await users.get("1"))
    assert.strictEqual(await cache.get("1"), "plain")
  })

  it("close() releases the connection; the next call opens it again", async () => {
    const cache = open(new MemcachedCache({ servers: server.address }))
    await cache.set("reopen", "v")
    await cache.close()
    assert.strictEqual(await cache.get("reopen"), "v")
  })

  it("a down server: calls reject with MemcachedError", async () => {
    const cache = open(new MemcachedCache({ servers: "127.0.0.1:1", timeout: 0.5 }))
    const error = await rejection(cache.get("k"))
    assert.instanceOf(error, MemcachedError)
    assert.strictEqual((error as MemcachedError).reason, "Unavailable")
  })
})

describe("MemcachedCache (Effect 4): other layers and bad options", () => {
  it("over MemcachedTest: the same methods on the in-memory fake", async () => {
    const cache = open(new MemcachedCache({ layer: MemcachedTest }))
    await cache.set("k", [1, 2, 3])
    assert.deepStrictEqual(await cache.get("k"), [1, 2, 3])
    cache.serializer = "json"
    await cache.set("j", { a: 1 })
    assert.deepStrictEqual(await cache.get("j"), { a: 1 })
  })

  it("a bad option throws a TypeError naming it, before anything connects", () => {
    assert.throws(() => new MemcachedCache({ servers: "localhost:99999" }), TypeError, "servers: bad port")
    assert.throws(() => new MemcachedCache({ servers: "localhost", timeout: -1 }), TypeError, "timeout must be")
    assert.throws(() => new MemcachedCache({ serializer: "pickle" as never }), TypeError, "unknown serializer")
  })

  it("a bad environment variable throws a TypeError naming it", () => {
    const saved = process.env["MEMCACHED_TIMEOUT"]
    process.env["MEMCACHED_TIMEOUT"] = "soon"
    try {
      assert.throws(() => new MemcachedCache(), TypeError, "MEMCACHED_TIMEOUT")
    } finally {
      if (saved === undefined) delete process.env["MEMCACHED_TIMEOUT"]
      else process.env["MEMCACHED_TIMEOUT"] = saved
    }
  })
})
