/**
 * What only the meta wire has. Answers that cannot be ours fail their requests at once, as `Protocol`, and the next
 * call gets a fresh connection: an opaque no request carries, another key, a line that is no meta answer, a value
 * larger than any item; a value spread over many chunks is read whole. memcached itself does none of these, so a
 * fake server on loopback does. And against a real memcached that speaks no binary: a value the server finds too
 * large is `ValueTooLarge`, alone or in a batch, and the connection goes on; and its text-protocol authentication.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Layer, Option, Redacted } from "effect"
import * as Net from "node:net"
import * as Util from "node:util"
import { Cache, MemcachedError, type MemcachedOptions, Serializer, ValueTooLarge } from "../src/index.js"
import { asciiGet } from "./support/asciiClient.js"
import { startMemcached } from "./support/MemcachedServer.js"
import { elapsed, failureOf } from "./support/outcomes.js"
import { build } from "./support/services.js"

const open = (options: MemcachedOptions) =>
  build(
    Cache.layerMemcached({ timeout: "3 seconds", ejectAfter: Infinity, ...options, protocol: "meta" }).pipe(
      Layer.provide(Serializer.bytes)
    )
  )

/** A meta request line: its verb, key and opaque. */
interface Request {
  readonly verb: string
  readonly key: string
  readonly opaque: string
}

/**
 * A fake meta server on loopback: each request line of its first connection goes to `misbehave`; later connections
 * answer every `mg` as an empty memcached would (`EN`). Closed with its scope.
 */
const fakeServer = (misbehave: (request: Request, socket: Net.Socket) => void) =>
  Effect.acquireRelease(
    Effect.async<{ readonly address: string; readonly close: () => Promise<void> }>((resume) => {
      const sockets = new Set<Net.Socket>()
      let connections = 0
      const server = Net.createServer((socket) => {
        const connection = connections++
        sockets.add(socket)
        socket.on("error", () => {})
        socket.on("close", () => sockets.delete(socket))
        let received = ""
        socket.on("data", (chunk: Buffer) => {
          received += chunk.toString("latin1")
          let newline: number
          while ((newline = received.indexOf("\r\n")) >= 0) {
            const [verb = "", key = "", ...flags] = received.slice(0, newline).split(" ")
            received = received.slice(newline + 2)
            const request = { verb, key, opaque: flags.find((flag) => flag.startsWith("O"))?.slice(1) ?? "" }
            if (connection === 0) misbehave(request, socket)
            else socket.write(`EN O${request.opaque}\r\n`)
          }
        })
      })
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as Net.AddressInfo
        resume(Effect.succeed({
          address: `127.0.0.1:${port}`,
          close: () =>
            new Promise<void>((done) => {
              for (const socket of sockets) socket.destroy()
              server.close(() => done())
            })
        }))
      })
    }),
    (server) => Effect.promise(server.close)
  )

/** Asserts a `Protocol` failure well before the 3 s deadline whose message includes `text`, then a working call. */
const protocolAtOnce = (misbehave: (request: Request, socket: Net.Socket) => void, text: string) =>
  Effect.gen(function*() {
    const server = yield* fakeServer(misbehave)
    const { memcached } = yield* open({ servers: server.address })
    const { exit, millis } = yield* elapsed(memcached.get("first"))
    const error = failureOf(exit)
    assert.instanceOf(error, MemcachedError)
    assert.strictEqual(error.reason, "Protocol", error.message)
    assert.include(error.message, text)
    assert.isBelow(millis, 700)
    assert.deepStrictEqual(yield* memcached.get("after"), Option.none())
  })

describe("meta answers that cannot be ours", () => {
  it.scopedLive("an opaque that no request in flight carries: Protocol at once", () =>
    protocolAtOnce((request, socket) => socket.write(`EN O${Number(request.opaque) + 1000}\r\n`), "no request"))

  it.scopedLive("a value under another key: Protocol at once", () =>
    protocolAtOnce(
      (request, socket) => socket.write(`VA 1 f0 kother O${request.opaque}\r\nx\r\n`),
      "mismatched response"
    ))

  it.scopedLive("a line that is no meta answer: Protocol at once", () =>
    protocolAtOnce((_, socket) => socket.write("NOT_STORED\r\n"), "NOT_STORED"))

  it.scopedLive("a value larger than any item: Protocol at once, before it is read", () =>
    protocolAtOnce(
      (request, socket) => socket.write(`VA ${3 * 2 ** 30} f0 k${request.key} O${request.opaque}\r\n`),
      "bytes, over the"
    ))

  it.scopedLive("a connection closed in the middle of a value: Unavailable at once, outcome unknown", () =>
    Effect.gen(function*() {
      const server = yield* fakeServer((request, socket) =>
        socket.end(`VA 10 f0 k${request.key} O${request.opaque}\r\nabc`)
      )
      const { memcached } = yield* open({ servers: server.address })
      // an increment, which is never retried (a get would be, on a fresh connection)
      const { exit, millis } = yield* elapsed(memcached.increment("cut", 1))
      const error = failureOf(exit)
      assert.instanceOf(error, MemcachedError)
      assert.strictEqual(error.reason, "Unavailable")
      assert.isTrue(error.outcomeUnknown)
      assert.include(error.message, "in the middle of a response")
      assert.isBelow(millis, 700)
    }))

  it.scopedLive("a value that arrives a few bytes at a time is read whole", () =>
    Effect.gen(function*() {
      const value = Buffer.from("0123456789".repeat(30))
      const server = yield* fakeServer((request, socket) => {
        const answer = Buffer.concat([
          Buffer.from(`VA ${value.length} f7 k${request.key} O${request.opaque}\r\n`),
          value,
          Buffer.from("\r\n")
        ])
        let sent = 0
        const next = () => {
          socket.write(answer.subarray(sent, sent += 37))
          if (sent < answer.length) setTimeout(next, 2)
        }
        next()
      })
      const { memcached } = yield* open({ servers: server.address })
      const item = Option.getOrThrow(yield* memcached.get("trickled"))
      assert.strictEqual(item.flags, 7)
      assert.isTrue(Buffer.from(item.value).equals(value))
    }))
})

const item = (text: string) => ({ value: Buffer.from(text), flags: 0 })

describe("a real memcached that speaks no binary", () => {
  it.scopedLive("a value over its -I is ValueTooLarge, alone or in a batch, and the connection goes on", () =>
    Effect.gen(function*() {
      const server = yield* startMemcached({ extraArgs: ["-B", "ascii", "-I", "1m"] })
      const { memcached } = yield* open({ servers: server.address, maxItemSize: 4 * 1024 * 1024 })
      const big = Buffer.alloc(2 * 1024 * 1024, 1)
      const alone = failureOf(yield* Effect.exit(memcached.set("big", big)))
      assert.instanceOf(alone, ValueTooLarge)
      assert.strictEqual(alone.key, "big")
      const batch = failureOf(
        yield* Effect.exit(
          memcached.setMany([["small-1", item("a")], ["huge", { value: big, flags: 0 }], ["small-2", item("b")]])
        )
      )
      assert.instanceOf(batch, ValueTooLarge)
      assert.strictEqual(batch.key, "huge")
      yield* memcached.set("after", Buffer.from("fine"))
      const after = Option.getOrThrow(yield* memcached.get("after"))
      assert.strictEqual(Buffer.from(after.value).toString(), "fine")
      assert.isTrue(Exit.isSuccess(yield* Effect.exit(memcached.get("big"))))
    }))
})

describe("the text commands a meta pool sends", () => {
  it.scopedLive("version, stats and flush answer for every server", () =>
    Effect.gen(function*() {
      const servers = [
        yield* startMemcached({ extraArgs: ["-B", "ascii"] }),
        yield* startMemcached({ extraArgs: ["-B", "ascii"] })
      ]
      const { memcached } = yield* open({ servers: servers.map((server) => server.address) })
      const versions = yield* memcached.version
      assert.deepStrictEqual([...versions.keys()], servers.map((server) => server.address))
      for (const version of versions.values()) assert.match(version, /^\d+\.\d+\.\d+/)
      yield* memcached.setMany(["a", "b", "c", "d"].map((key) => [key, item(key)]))
      const stats = yield* memcached.stats
      assert.deepStrictEqual(
        servers.map((server) => Number(stats.get(server.address)?.pid)),
        servers.map((server) => server.pid)
      )
      yield* memcached.flush
      assert.strictEqual((yield* memcached.getMany(["a", "b", "c", "d"])).size, 0)
    }))
})

describe("text-protocol authentication (memcached -Y)", () => {
  const username = "app"
  const password = "pa55-w0rd-that-must-not-leak"

  it.scopedLive("the right credentials work; wrong or none are Auth, never leak, and eject nothing", () =>
    Effect.gen(function*() {
      const server = yield* startMemcached({ authFile: { username, password } })
      const right = yield* open({ servers: server.address, username, password: Redacted.make(password) })
      yield* right.memcached.set("authed", Buffer.from("in"))
      const read = Option.getOrThrow(yield* right.memcached.get("authed"))
      assert.strictEqual(Buffer.from(read.value).toString(), "in")

      const wrong = yield* open({
        servers: server.address,
        username,
        password: Redacted.make("wrong-pw"),
        ejectAfter: 1
      })
      const none = yield* open({ servers: server.address, ejectAfter: 1 })
      for (const { memcached } of [wrong, none, wrong, none]) {
        const error = failureOf(yield* Effect.exit(memcached.increment("authed-counter", 1)))
        assert.instanceOf(error, MemcachedError)
        assert.strictEqual(error.reason, "Auth", error.message)
        assert.notInclude(error.message, "wrong-pw")
        assert.notInclude(Util.inspect(error, { depth: 10 }), "wrong-pw")
      }
    }))

  it.scopedLive("credentials sent to a server without an auth file are never readable there", () =>
    Effect.gen(function*() {
      const server = yield* startMemcached({ extraArgs: ["-B", "ascii"] })
      const { memcached } = yield* open({ servers: server.address, username, password: Redacted.make(password) })
      yield* memcached.set("plain", Buffer.from("ok"))
      assert.isTrue(Option.isSome(yield* memcached.get("plain")))
      assert.isTrue(Option.isNone(yield* asciiGet(server.address, "auth")))
    }))
})
