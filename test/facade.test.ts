/**
 * The Promise facade `MemcachedCache`, as plain async code uses it: against a real memcached and over
 * `MemcachedTest`. TTLs on the real server are read back with memcached's meta command `mg <key> t`.
 */
import { Effect, Exit, Option, Scope } from "effect"
import memjs from "memjs"
import * as net from "node:net"
import { setTimeout as sleep } from "node:timers/promises"
import { afterAll, afterEach, assert, beforeAll, describe, it } from "vitest"
import {
  CacheNotFound,
  Flags,
  InvalidKey,
  MemcachedCache,
  type MemcachedCacheOptions,
  MemcachedError,
  MemcachedTest,
  SerializationError
} from "../src/index.js"
import { asciiGet, asciiSet, asciiStats } from "./support/asciiClient.js"
import { assertTtl as assertTtlOf, metaTtl as metaTtlOf, rejection } from "./support/facade.js"
import { type RunningServer, startMemcached } from "./support/MemcachedServer.js"

const PREFIX = "facade:"

const scope = Effect.runSync(Scope.make())
let server: RunningServer
/** A server that speaks no binary (`-B ascii`), for the facade over the meta protocol. */
let asciiServer: RunningServer
beforeAll(async () => {
  server = await Effect.runPromise(Scope.extend(startMemcached(), scope))
  asciiServer = await Effect.runPromise(Scope.extend(startMemcached({ extraArgs: ["-B", "ascii"] }), scope))
})
afterAll(() => Effect.runPromise(Scope.close(scope, Exit.void)))

const opened: Array<MemcachedCache> = []
afterEach(async () => {
  await Promise.all(opened.splice(0).map((cache) => cache.close()))
})

/** curr_connections as the server counts them; the stats connection itself is one of them. */
const connections = async (address: string) =>
  Number((await Effect.runPromise(asciiStats(address)))["curr_connections"])

const waitForConnections = async (address: string, expected: number, withinMillis = 1000) => {
  const deadline = Date.now() + withinMillis
  let current = await connections(address)
  while (current !== expected && Date.now() < deadline) {
    await sleep(20)
    current = await connections(address)
  }
  assert.strictEqual(current, expected, "open connections")
}

/** Runs `f` with a memcached of its own, so connection counts see no other test's sockets. */
const withOwnServer = async (f: (own: RunningServer) => Promise<void>): Promise<void> => {
  const ownScope = Effect.runSync(Scope.make())
  try {
    await f(await Effect.runPromise(Scope.extend(startMemcached(), ownScope)))
  } finally {
    await Effect.runPromise(Scope.close(ownScope, Exit.void))
  }
}

const asciiRead = async (key: string) => Option.getOrUndefined(await Effect.runPromise(asciiGet(server.address, key)))

/** A free loopback port with nothing listening on it. */
const closedPort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const probe = net.createServer()
    probe.once("error", reject)
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      probe.close(() => resolve(port))
    })
  })

interface Backend {
  readonly name: string
  readonly real: boolean
  /** The real server it runs over, where TTLs are read back. */
  readonly serverOf: () => RunningServer
  readonly make: (options?: MemcachedCacheOptions) => MemcachedCache
}

const backends: ReadonlyArray<Backend> = [
  {
    name: "real memcached",
    real: true,
    serverOf: () => server,
    make: (options = {}) => track(new MemcachedCache({ servers: server.address, keyPrefix: PREFIX, ...options }))
  },
  {
    name: "real memcached over meta (-B ascii)",
    real: true,
    serverOf: () => asciiServer,
    make: (options = {}) =>
      track(new MemcachedCache({ servers: asciiServer.address, keyPrefix: PREFIX, protocol: "meta", ...options }))
  },
  {
    name: "MemcachedTest",
    real: false,
    serverOf: () => server,
    make: (options = {}) => track(new MemcachedCache({ layer: MemcachedTest, ...options }))
  }
]

const track = (cache: MemcachedCache) => {
  opened.push(cache)
  return cache
}

describe.each(backends)("MemcachedCache over $name", ({ make, name, real, serverOf }) => {
  const key = (suffix: string) => `${real ? "r" : "m"}-${suffix}`
  const metaTtl = (key: string) => metaTtlOf(serverOf(), `${PREFIX}${key}`)
  const assertTtl = (key: string, expected: number, slack = 1) =>
    assertTtlOf(serverOf(), `${PREFIX}${key}`, expected, slack)

  it("get(key, default?, fail?)", async () => {
    const rc = make()
    assert.isUndefined(await rc.get(key("get-miss")))
    assert.strictEqual(await rc.get(key("get-miss"), "fallback"), "fallback")
    assert.strictEqual(await rc.get(key("get-miss"), 0), 0)

    const error = await rejection(rc.get(key("get-miss"), "ignored", true), CacheNotFound)
    assert.strictEqual(error._tag, "CacheNotFound")
    assert.strictEqual(error.key, key("get-miss"))
    assert.include(error.message, key("get-miss"))

    await rc.set(key("get-hit"), { when: new Date(86_400_000), tags: new Map([["a", 1n]]) })
    assert.deepStrictEqual(await rc.get(key("get-hit"), "fallback", true), {
      when: new Date(86_400_000),
      tags: new Map([["a", 1n]])
    })
    await rc.set(key("get-falsy"), 0)
    assert.strictEqual(await rc.get(key("get-falsy"), 99), 0)
  })

  it("set: timeout in seconds, null for never, left out for the default, zero or negative for gone", async () => {
    const rc = make()
    await rc.set(key("set-60"), "a", 60)
    await rc.set(key("set-null"), "b", null)
    await rc.set(key("set-default"), "c")
    await rc.set(key("set-1.5"), "d", 1.5)
    await rc.set(key("set-31d"), "e", 31 * 24 * 3600)
    await rc.set(key("set-zero"), "f", 0)
    await rc.set(key("set-negative"), "g", -5)
    assert.isUndefined(await rc.get(key("set-zero")))
    assert.isUndefined(await rc.get(key("set-negative")))
    assert.strictEqual(await rc.get(key("set-31d")), "e")
    if (real) {
      await assertTtl(key("set-60"), 60)
      assert.strictEqual(await metaTtl(key("set-null")), -1)
      await assertTtl(key("set-default"), 300)
      await assertTtl(key("set-1.5"), 2)
      await assertTtl(key("set-31d"), 31 * 24 * 3600 + 1, 3)
      assert.isUndefined(await metaTtl(key("set-zero")))
    } else {
      await rc.set(key("set-1"), "h", 1)
      await rc.set(key("set-touched"), "i", 1)
      assert.strictEqual(await rc.updateTimeout(key("set-touched"), 60), "i")
      await sleep(1100) // the fake keeps memcached's whole-second clock: a 1 s TTL is gone within 1 s
      assert.isUndefined(await rc.get(key("set-1")))
      assert.strictEqual(await rc.get(key("set-touched")), "i")
      assert.strictEqual(await rc.get(key("set-60")), "a")
      assert.strictEqual(await rc.get(key("set-null")), "b")
      assert.strictEqual(await rc.get(key("set-default")), "c")
    }
  })

  it("remove(...keys): true only if every key existed, all removed either way", async () => {
    const rc = make()
    await rc.set(key("rm-a"), 1)
    await rc.set(key("rm-b"), 2)
    assert.strictEqual(await rc.remove(key("rm-a"), key("rm-b")), true)
    assert.isUndefined(await rc.get(key("rm-a")))
    assert.isUndefined(await rc.get(key("rm-b")))

    await rc.set(key("rm-c"), 3)
    assert.strictEqual(await rc.remove(key("rm-c"), key("rm-missing")), false)
    assert.isUndefined(await rc.get(key("rm-c")))
    assert.strictEqual(await rc.remove(key("rm-c")), false)
  })

  it("updateTimeout returns the value, or rejects with CacheNotFound", async () => {
    const rc = make()
    await rc.set(key("ut"), { v: 1 }, 10)
    assert.deepStrictEqual(await rc.updateTimeout(key("ut"), 100), { v: 1 })
    if (real) await assertTtl(key("ut"), 100)
    assert.deepStrictEqual(await rc.updateTimeout(key("ut")), { v: 1 })
    if (real) await assertTtl(key("ut"), 300)
    assert.deepStrictEqual(await rc.updateTimeout(key("ut"), null), { v: 1 })
    if (real) assert.strictEqual(await metaTtl(key("ut")), -1)

    const error = await rejection(rc.updateTimeout(key("ut-missing"), 60), CacheNotFound)
    assert.strictEqual(error._tag, "CacheNotFound")
    assert.strictEqual(error.key, key("ut-missing"))
  })

  it("getOrSet with a value, a sync function and an async function (called with the key)", async () => {
    const rc = make()
    assert.strictEqual(await rc.getOrSet(key("gos-value"), "first", 60), "first")
    assert.strictEqual(await rc.getOrSet(key("gos-value"), "second"), "first")
    if (real) await assertTtl(key("gos-value"), 60)

    const seen: Array<string> = []
    const syncFn = (k: string) => {
      seen.push(k)
      return `sync:${k}`
    }
    assert.strictEqual(await rc.getOrSet(key("gos-sync"), syncFn), `sync:${key("gos-sync")}`)
    assert.strictEqual(await rc.getOrSet(key("gos-sync"), syncFn), `sync:${key("gos-sync")}`)
    assert.deepStrictEqual(seen, [key("gos-sync")])

    const asyncFn = async (k: string) => {
      seen.push(k)
      await sleep(5)
      return { computed: k }
    }
    assert.deepStrictEqual(await rc.getOrSet(key("gos-async"), asyncFn, 30), { computed: key("gos-async") })
    assert.deepStrictEqual(await rc.get(key("gos-async")), { computed: key("gos-async") })
    assert.deepStrictEqual(seen, [key("gos-sync"), key("gos-async")])
    if (real) await assertTtl(key("gos-async"), 30)
  })

  it("concurrent getOrSet calls for one key compute once", async () => {
    const rc = make()
    let calls = 0
    const compute = async (k: string) => {
      calls++
      await sleep(50)
      return `v-${k}-${calls}`
    }
    const results = await Promise.all(Array.from({ length: 10 }, () => rc.getOrSet(key("gos-once"), compute)))
    assert.strictEqual(calls, 1)
    assert.deepStrictEqual(results, Array.from({ length: 10 }, () => `v-${key("gos-once")}-1`))
    assert.strictEqual(await rc.get(key("gos-once")), `v-${key("gos-once")}-1`)
  })

  it("getOrSet rejects with the function's own error and stores nothing", async () => {
    const rc = make()
    const boom = new Error("boom")
    const rejected = async (promise: Promise<unknown>) => {
      try {
        await promise
      } catch (error) {
        return error
      }
      return assert.fail("expected a rejection")
    }
    assert.strictEqual(
      await rejected(rc.getOrSet(key("gos-err"), async () => {
        await sleep(1)
        throw boom
      })),
      boom
    )
    assert.strictEqual(
      await rejected(rc.getOrSet(key("gos-err"), () => {
        throw boom
      })),
      boom
    )
    const plain = await rejected(rc.getOrSet(key("gos-err"), () => Promise.reject("plain string")))
    assert.strictEqual(plain, "plain string")
    assert.isUndefined(await rc.get(key("gos-err")))

    // Concurrent callers share the failure, and a later call computes again.
    let calls = 0
    const failing = async () => {
      calls++
      await sleep(20)
      throw boom
    }
    const shared = await Promise.all([1, 2, 3].map(() => rejected(rc.getOrSet(key("gos-err"), failing))))
    assert.deepStrictEqual(shared, [boom, boom, boom])
    assert.strictEqual(calls, 1)
    assert.strictEqual(await rc.getOrSet(key("gos-err"), () => "recovered"), "recovered")
  })

  it("has, getMany (a Map of hits) and setMany (pairs or a record)", async () => {
    const rc = make()
    await rc.setMany([[key("many-a"), 1], [key("many-b"), { b: 2 }]])
    await rc.setMany({ [key("many-c")]: "three", [key("many-d")]: [4] }, 45)
    assert.isTrue(await rc.has(key("many-a")))
    assert.isFalse(await rc.has(key("many-missing")))

    const found = await rc.getMany([key("many-a"), key("many-missing"), key("many-b"), key("many-c"), key("many-d")])
    assert.instanceOf(found, Map)
    assert.deepStrictEqual(
      found,
      new Map<string, unknown>([
        [key("many-a"), 1],
        [key("many-b"), { b: 2 }],
        [key("many-c"), "three"],
        [key("many-d"), [4]]
      ])
    )
    assert.deepStrictEqual(await rc.getMany([key("many-missing")]), new Map())
    if (real) {
      await assertTtl(key("many-a"), 300)
      await assertTtl(key("many-d"), 45)
    }
  })

  it("the serializer option, and switching rc.serializer on an instance", async () => {
    const rc = make()
    await rc.set(key("ser-structured"), { a: 1 })
    rc.serializer = "json"
    assert.strictEqual(rc.serializer, "json")
    const error = await rejection(rc.get(key("ser-structured")), SerializationError)
    assert.strictEqual(error._tag, "SerializationError")
    assert.strictEqual(error.direction, "decode")
    assert.strictEqual(error.key, key("ser-structured"))
    assert.include(error.message, "structured")

    await rc.set(key("ser-json"), { b: [1, 2] })
    assert.deepStrictEqual(await rc.get(key("ser-json")), { b: [1, 2] })
    rc.serializer = "structured"
    assert.deepStrictEqual(await rc.get(key("ser-structured")), { a: 1 })
    assert.strictEqual((await rejection(rc.get(key("ser-json")), SerializationError)).direction, "decode")
    assert.throws(() => {
      rc.serializer = "pickle" as "json"
    }, TypeError)

    const rawCache = make({ serializer: "raw" })
    const encodeError = await rejection(rawCache.set(key("ser-raw"), 12), SerializationError)
    assert.strictEqual(encodeError.direction, "encode")
    await rawCache.set(key("ser-raw"), "text")
    assert.strictEqual(await rawCache.get(key("ser-raw")), "text")
  })

  it("an invalid key rejects with InvalidKey", async () => {
    const rc = make()
    const tooLong = "x".repeat(251 - (real ? PREFIX.length : 0))
    for (
      const [call, bad] of [
        [() => rc.get("has space"), "has space"],
        [() => rc.set("", 1), ""],
        [() => rc.has("tab\tkey"), "tab\tkey"],
        [() => rc.remove(key("ok"), "new\nline"), "new\nline"],
        [() => rc.getOrSet(tooLong, 1), tooLong],
        [() => rc.get(42 as unknown as string), "42"]
      ] as const
    ) {
      const error = await rejection(call(), InvalidKey)
      assert.strictEqual(error._tag, "InvalidKey")
      assert.strictEqual(error.key, bad)
    }
  })

  it("a NaN timeout rejects with TypeError and never throws synchronously", async () => {
    const rc = make()
    const calls: ReadonlyArray<() => Promise<unknown>> = [
      () => rc.set(key("nan"), 1, Number.NaN),
      () => rc.updateTimeout(key("nan"), Number.NaN),
      () => rc.getOrSet(key("nan"), 1, Number.NaN),
      () => rc.setMany([[key("nan"), 1]], Number.NaN)
    ]
    for (const call of calls) {
      let promise: Promise<unknown> | undefined
      assert.doesNotThrow(() => {
        promise = call()
        promise.catch(() => {})
      })
      const error = await rejection(promise!, TypeError)
      assert.include(error.message, "NaN")
    }
    assert.isUndefined(await rc.get(key("nan")))
  })

  it("close() releases, and the next call opens it again", async () => {
    const rc = make()
    await rc.set(key("reopen"), "kept")
    await rc.close()
    await rc.close() // idempotent
    // Over a real server the data is still there; the in-memory store of MemcachedTest starts empty on each build.
    assert.strictEqual(await rc.get(key("reopen")), real ? "kept" : undefined)
    await rc.set(key("reopen-2"), "after")
    assert.strictEqual(await rc.get(key("reopen-2")), "after")
  })

  it("connect() resolves and the instance is usable", async () => {
    const rc = make()
    await rc.connect()
    await rc.set(key("connect"), name)
    assert.strictEqual(await rc.get(key("connect")), name)
  })

  it("calls run side by side: a slow getOrSet holds up no other call, and bursts get their own answers", async () => {
    const rc = make()
    await rc.connect()
    let release: (value: string) => void = () => {}
    const slow = rc.getOrSet(key("slow"), () => new Promise<string>((resolve) => release = resolve))
    for (let round = 0; round < 3; round++) {
      const keys = Array.from({ length: 600 }, (_, i) => key(`burst:${round}:${i}`))
      await Promise.all(keys.map((k) => rc.set(k, k)))
      const got = await Promise.all(keys.map((k, i) => i % 3 === 0 ? rc.get(k, "x", true) : rc.get(k)))
      assert.deepStrictEqual(got, keys)
    }
    release("done")
    assert.strictEqual(await slow, "done")
  })
})

describe("MemcachedCache against a real server only", () => {
  it("`await using` closes the connection on scope exit", () =>
    withOwnServer(async (own) => {
      await waitForConnections(own.address, 1)
      {
        await using rc = new MemcachedCache({ servers: own.address })
        await rc.set("using-key", "v")
        await waitForConnections(own.address, 2)
      }
      await waitForConnections(own.address, 1)
    }))

  it("close() closes the socket, and using it again reconnects", () =>
    withOwnServer(async (own) => {
      const rc = track(new MemcachedCache({ servers: own.address }))
      await rc.set("close-key", "v")
      await waitForConnections(own.address, 2)
      await rc.close()
      await waitForConnections(own.address, 1)
      assert.strictEqual(await rc.get("close-key"), "v")
      await waitForConnections(own.address, 2)
    }))

  it("connect() opens the connection eagerly", () =>
    withOwnServer(async (own) => {
      const rc = track(new MemcachedCache({ servers: own.address }))
      await waitForConnections(own.address, 1)
      await rc.connect()
      await waitForConnections(own.address, 2, 500)
    }))

  it("connect() to a server that is down rejects with MemcachedError", async () => {
    const rc = track(new MemcachedCache({ servers: `127.0.0.1:${await closedPort()}`, timeout: "500 millis" }))
    const error = await rejection(rc.connect(), MemcachedError)
    assert.strictEqual(error.reason, "Unavailable")
  })

  it("the serializer option decides what other clients see", async () => {
    const json = track(new MemcachedCache({ servers: server.address, keyPrefix: PREFIX, serializer: "json" }))
    await json.set("opt-json", { a: 1 })
    const seen = await asciiRead(`${PREFIX}opt-json`)
    assert.strictEqual(seen?.flags, Flags.json)
    assert.strictEqual(seen?.bytes.toString("utf8"), "{\"a\":1}")

    const structured = track(new MemcachedCache({ servers: server.address, keyPrefix: PREFIX }))
    const error = await rejection(structured.get("opt-json"), SerializationError)
    assert.strictEqual(error.direction, "decode")
    assert.include(error.message, "written by the json serializer, not structured")

    await Effect.runPromise(asciiSet(server.address, `${PREFIX}opt-raw`, 0, "from python"))
    const raw = track(new MemcachedCache({ servers: server.address, keyPrefix: PREFIX, serializer: "raw" }))
    assert.strictEqual(await raw.get("opt-raw"), "from python")
  })

  it("MemcachedCache.defaultSerializer sets the serializer of new instances", async () => {
    const before = MemcachedCache.defaultSerializer
    assert.strictEqual(before, "structured")
    try {
      MemcachedCache.defaultSerializer = "raw"
      const rc = track(new MemcachedCache({ servers: server.address, keyPrefix: PREFIX }))
      assert.strictEqual(rc.serializer, "raw")
      await rc.set("default-ser", "plain")
      const seen = await asciiRead(`${PREFIX}default-ser`)
      assert.strictEqual(seen?.flags, 0)
      assert.strictEqual(seen?.bytes.toString("utf8"), "plain")
    } finally {
      MemcachedCache.defaultSerializer = before
    }
    const later = track(new MemcachedCache({ servers: server.address, keyPrefix: PREFIX }))
    assert.strictEqual(later.serializer, "structured")
    await later.set("default-ser-2", "x")
    assert.strictEqual((await asciiRead(`${PREFIX}default-ser-2`))?.flags, Flags.text)
  })

  it("a client of your own is used, and left open on close() unless closeOnRelease", async () => {
    const client = memjs.Client.create(server.address, { retries: 0, timeout: 1, logger: { log() {} } })
    try {
      const rc = track(new MemcachedCache({ client, serializer: "raw" }))
      await rc.set("own-client", "via facade")
      assert.strictEqual((await client.get("own-client")).value?.toString("utf8"), "via facade")
      await rc.close()
      await client.set("own-client-2", "via memjs", { expires: 60 })
      assert.strictEqual((await client.get("own-client-2")).value?.toString("utf8"), "via memjs")
      assert.strictEqual(await rc.get("own-client-2"), "via memjs")
    } finally {
      client.close()
    }
  })
})
