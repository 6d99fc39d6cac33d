/**
 * A broken connection fails its requests at once, not at their deadline, and the next call gets a fresh connection:
 * a socket that closes (`Unavailable`), and frames that cannot be answers of ours (`Protocol`): cut short, answering
 * no request, out of order, announcing a body larger than any item, or not a response at all. memcached itself does
 * none of these, so fake servers on loopback do, except for the killed server at the end.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Layer, Option, Schedule } from "effect"
import type * as Net from "node:net"
import { Cache, MemcachedError, type MemcachedOptions, Serializer } from "../src/index.js"
import { startMemcached } from "./support/MemcachedServer.js"
import { binaryServer, emptyCacheAnswer, keyOf, responseTo } from "./support/network.js"
import { elapsed, failureOf } from "./support/outcomes.js"
import { build } from "./support/services.js"

/** A deadline far above what "at once" means here, so that a failure at the deadline cannot pass for one at once. */
const DEADLINE = 3000
const AT_ONCE = 700

const open = (options: MemcachedOptions) =>
  build(
    Cache.layerMemcached({ timeout: `${DEADLINE} millis`, ejectAfter: Infinity, ...options }).pipe(
      Layer.provide(Serializer.bytes)
    )
  )

/** Asserts that `exit` failed with `MemcachedError` `reason` well before the deadline, and returns the error. */
const failedAtOnce = (
  outcome: { readonly exit: Exit.Exit<unknown, unknown>; readonly millis: number },
  reason: MemcachedError["reason"]
) => {
  const error = failureOf(outcome.exit)
  assert.instanceOf(error, MemcachedError)
  assert.strictEqual(error.reason, reason, error.message)
  assert.isBelow(outcome.millis, AT_ONCE, `failed after ${outcome.millis} ms: ${error.message}`)
  return error
}

/**
 * A fake server whose first connection misbehaves as `misbehave` says when it gets a GetK or Increment; later
 * connections answer as an empty memcached would.
 */
const misbehaving = (misbehave: (request: Buffer, socket: Net.Socket) => void) =>
  binaryServer((request, socket, connection) => {
    if (connection === 0 && (request[1] === 0x0c || request[1] === 0x05)) return misbehave(request, socket)
    const answer = emptyCacheAnswer(request)
    if (answer) socket.write(answer)
  })

describe("a connection that closes", () => {
  it.scopedLive("closed with a request on it: Unavailable at once; a retried get succeeds on a fresh connection", () =>
    Effect.gen(function*() {
      const server = yield* misbehaving((_, socket) => socket.end())
      const { memcached } = yield* open({ servers: server.address })
      const increment = yield* elapsed(memcached.increment("counter", 1))
      const error = failedAtOnce(increment, "Unavailable")
      assert.include(error.message, "closed the connection")
      assert.isTrue(error.outcomeUnknown, "it was written, so it may have been applied")
      // the next call gets a fresh connection (the fake answers there)
      const read = yield* elapsed(memcached.get("after"))
      assert.isTrue(Exit.isSuccess(read.exit))
      assert.isBelow(read.millis, AT_ONCE)
      assert.strictEqual(server.accepted(), 2)
    }))

  it.scopedLive("an idempotent call whose connection closes is retried at once on a fresh one", () =>
    Effect.gen(function*() {
      const server = yield* misbehaving((_, socket) => socket.end())
      const { memcached } = yield* open({ servers: server.address })
      const read = yield* elapsed(memcached.get("closed"))
      assert.deepStrictEqual(read.exit, Exit.succeed(Option.none()))
      assert.isBelow(read.millis, AT_ONCE)
      assert.strictEqual(server.accepted(), 2)
    }))

  it.scopedLive("closed in the middle of a response: Unavailable at once, saying so", () =>
    Effect.gen(function*() {
      const server = yield* misbehaving((request, socket) => {
        const hit = responseTo(request, { key: Buffer.from(keyOf(request)), value: Buffer.alloc(5000, 7) })
        socket.end(hit.subarray(0, 2000))
      })
      const { memcached } = yield* open({ servers: server.address, retry: Schedule.stop })
      const error = failedAtOnce(yield* elapsed(memcached.get("cut")), "Unavailable")
      assert.include(error.message, "in the middle of a response")
      assert.isTrue(Exit.isSuccess(yield* Effect.exit(memcached.get("after"))))
    }))

  it.scopedLive("every request on the closed connection fails at once, and none is left waiting", () =>
    Effect.gen(function*() {
      let seen = 0
      const server = yield* misbehaving((_, socket) => {
        if (++seen === 20) socket.end()
      })
      const { memcached } = yield* open({ servers: server.address, retry: Schedule.stop })
      const outcomes = yield* Effect.all(
        Array.from({ length: 20 }, (_, i) => elapsed(memcached.get(`many-${i}`))),
        { concurrency: "unbounded" }
      )
      for (const outcome of outcomes) failedAtOnce(outcome, "Unavailable")
    }))
})

describe("frames that cannot be answers of ours", () => {
  it.scopedLive("an answer to no request in flight: Protocol at once, then a fresh connection", () =>
    Effect.gen(function*() {
      const server = yield* misbehaving((request, socket) => {
        const stray = responseTo(request, { key: Buffer.from(keyOf(request)), value: Buffer.from("not yours") })
        stray.writeUInt32BE(request.readUInt32BE(12) + 1000, 12)
        socket.write(stray)
      })
      const { memcached } = yield* open({ servers: server.address })
      const error = failedAtOnce(yield* elapsed(memcached.get("stray")), "Protocol")
      assert.include(error.message, "answered no request in flight")
      assert.isTrue(Exit.isSuccess(yield* Effect.exit(memcached.get("after"))))
      assert.strictEqual(server.accepted(), 2)
    }))

  it.scopedLive("answers out of order: both fail at once as Protocol, and neither gets the other's value", () =>
    Effect.gen(function*() {
      const held: Array<Buffer> = []
      const server = yield* misbehaving((request, socket) => {
        held.push(responseTo(request, { key: Buffer.from(keyOf(request)), value: Buffer.from(`of ${keyOf(request)}`) }))
        if (held.length === 2) socket.write(Buffer.concat(held.reverse()))
      })
      const { memcached } = yield* open({ servers: server.address })
      const [first, second] = yield* Effect.all([elapsed(memcached.get("first")), elapsed(memcached.get("second"))], {
        concurrency: "unbounded"
      })
      failedAtOnce(first, "Protocol")
      failedAtOnce(second, "Protocol")
    }))

  it.scopedLive("a batch's hit under another key: the connection is dropped, and the batch read again afresh", () =>
    Effect.gen(function*() {
      const server = yield* binaryServer((request, socket, connection) => {
        if (request[1] !== 0x0d) return void socket.write(responseTo(request)) // GetKQ: a hit; the no-op: its answer
        const key = keyOf(request)
        const carried = Buffer.from(connection === 0 && key === "batch-long-key-2" ? "batch-long-key-3" : key)
        socket.write(responseTo(request, { extras: Buffer.alloc(4), key: carried, value: carried }))
      })
      const { cache } = yield* open({ servers: server.address })
      const keys = ["batch-long-key-1", "batch-long-key-2", "batch-long-key-3"]
      const found = yield* cache.getMany(keys)
      assert.deepStrictEqual([...found], keys.map((key) => [key, Buffer.from(key)]))
      assert.strictEqual(server.accepted(), 2)
    }))

  it.scopedLive("a body over the layer's largest item: Protocol at once, before it is read", () =>
    Effect.gen(function*() {
      const server = yield* misbehaving((request, socket) => {
        socket.write(responseTo(request, { key: Buffer.from(keyOf(request)), value: Buffer.alloc(100_300, 1) }))
      })
      const { memcached } = yield* open({ servers: server.address, maxItemSize: 100_000 })
      const error = failedAtOnce(yield* elapsed(memcached.get("big")), "Protocol")
      assert.include(error.message, "bytes of body")
      assert.isTrue(Exit.isSuccess(yield* Effect.exit(memcached.get("after"))))
    }))

  it.scopedLive("a header that announces 3 GiB: Protocol at once, and nothing allocated for it", () =>
    Effect.gen(function*() {
      const server = yield* misbehaving((request, socket) => {
        const header = responseTo(request, { key: Buffer.from(keyOf(request)) })
        header.writeUInt32BE(3 * 2 ** 30, 8)
        socket.write(Buffer.concat([header, Buffer.alloc(30_000, 2)]))
      })
      const { memcached } = yield* open({ servers: server.address })
      const before = process.memoryUsage()
      const error = failedAtOnce(yield* elapsed(memcached.get("huge")), "Protocol")
      const after = process.memoryUsage()
      assert.include(error.message, `${3 * 2 ** 30} bytes of body`)
      assert.isBelow(after.arrayBuffers - before.arrayBuffers, 64 * 2 ** 20)
      assert.isBelow(after.external - before.external, 64 * 2 ** 20)
      assert.isTrue(Exit.isSuccess(yield* Effect.exit(memcached.get("after"))))
    }))

  it.scopedLive("a frame that is not a response: Protocol at once", () =>
    Effect.gen(function*() {
      const server = yield* misbehaving((_, socket) => socket.write(Buffer.from("SERVER_ERROR out of memory\r\n")))
      const { memcached } = yield* open({ servers: server.address })
      const error = failedAtOnce(yield* elapsed(memcached.get("text")), "Protocol")
      assert.include(error.message, "started with byte 0x53")
      assert.isTrue(Exit.isSuccess(yield* Effect.exit(memcached.get("after"))))
    }))
})

describe("a real memcached killed with requests in flight", () => {
  it.scopedLive("they fail at once, and once it is back the next call reconnects", () =>
    Effect.gen(function*() {
      const server = yield* startMemcached()
      const { memcached } = yield* open({ servers: server.address, retry: Schedule.stop })
      yield* memcached.set("k", Buffer.from("v"))
      yield* server.stop()
      const waiting = yield* Effect.fork(
        Effect.all(Array.from({ length: 50 }, () => elapsed(memcached.get("k"))), { concurrency: "unbounded" })
      )
      yield* Effect.sleep("100 millis")
      const killedAt = performance.now()
      yield* server.kill()
      const outcomes = yield* Fiber.join(waiting)
      for (const outcome of outcomes) {
        const error = failureOf(outcome.exit)
        assert.instanceOf(error, MemcachedError)
        assert.strictEqual(error.reason, "Unavailable", error.message)
      }
      assert.isBelow(performance.now() - killedAt, AT_ONCE)
      yield* server.restart()
      assert.deepStrictEqual(yield* memcached.get("k"), Option.none())
    }))
})
