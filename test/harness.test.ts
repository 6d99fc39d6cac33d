import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Exit, Layer, Option } from "effect"
import memjs from "memjs"
import { asciiGet, asciiSet, asciiStats } from "./support/asciiClient.js"
import { MemcachedServer, startMemcached } from "./support/MemcachedServer.js"

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    assert.strictEqual((err as NodeJS.ErrnoException).code, "ESRCH")
    return false
  }
}

/** memjs set + get through SASL; fails with whatever memjs rejects with. */
const memjsRoundTrip = (address: string, username: string, password: string) =>
  Effect.acquireUseRelease(
    Effect.sync(() =>
      memjs.Client.create(address, {
        username,
        password,
        retries: 0,
        timeout: 1,
        logger: { log() {} }
      })
    ),
    (client) =>
      Effect.tryPromise({
        try: async () => {
          await client.set("sasl-key", "sasl-value", {})
          const { value } = await client.get("sasl-key")
          return value?.toString("utf8")
        },
        // memjs rejects with a plain string here, not an Error.
        catch: (err) => String(err instanceof Error ? err.message : err)
      }),
    (client) => Effect.sync(() => client.close())
  )

describe("MemcachedServer harness", () => {
  it.scoped("starts memcached and round-trips values over the ASCII protocol", () =>
    Effect.gen(function*() {
      const server = yield* startMemcached()
      assert.strictEqual(server.host, "127.0.0.1")
      assert.strictEqual(server.address, `127.0.0.1:${server.port}`)
      assert.isTrue(isAlive(server.pid))

      const stats = yield* asciiStats(server.address)
      assert.strictEqual(stats["pid"], String(server.pid))
      assert.match(stats["version"] ?? "", /^1\.6\./)

      assert.isTrue(Option.isNone(yield* asciiGet(server.address, "missing")))

      yield* asciiSet(server.address, "text", 42, "héllo")
      const text = Option.getOrThrow(yield* asciiGet(server.address, "text"))
      assert.strictEqual(text.flags, 42)
      assert.strictEqual(text.bytes.toString("utf8"), "héllo")

      // Every byte value, including \r\n and "END\r\n" inside the payload.
      const binary = Buffer.concat([
        Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
        Buffer.from("\r\nEND\r\n")
      ])
      yield* asciiSet(server.address, "binary", 0xffff_ffff, binary)
      const bin = Option.getOrThrow(yield* asciiGet(server.address, "binary"))
      assert.strictEqual(bin.flags, 0xffff_ffff)
      assert.isTrue(bin.bytes.equals(binary))

      // Large enough to arrive in several TCP chunks.
      const big = Buffer.alloc(256 * 1024)
      for (let i = 0; i < big.length; i++) big[i] = (i * 7919) & 0xff
      yield* asciiSet(server.address, "big", 7, big)
      const bigGot = Option.getOrThrow(yield* asciiGet(server.address, "big"))
      assert.strictEqual(bigGot.flags, 7)
      assert.isTrue(bigGot.bytes.equals(big))
    }))

  it.scoped("kill + restart reuses the same port with an empty cache", () =>
    Effect.gen(function*() {
      const server = yield* startMemcached()
      const { port, pid: firstPid } = server
      yield* asciiSet(server.address, "k", 1, "v")

      yield* server.kill()
      assert.isFalse(isAlive(firstPid))
      const whileDown = yield* Effect.exit(asciiGet(server.address, "k"))
      assert.isTrue(Exit.isFailure(whileDown), "get against a killed server must fail")

      yield* server.restart()
      assert.strictEqual(server.port, port)
      assert.notStrictEqual(server.pid, firstPid)
      assert.isTrue(isAlive(server.pid))
      assert.isTrue(Option.isNone(yield* asciiGet(server.address, "k")), "data is gone after restart")
      yield* asciiSet(server.address, "k", 2, "v2")
      assert.strictEqual(Option.getOrThrow(yield* asciiGet(server.address, "k")).flags, 2)

      // restart also works on a live (not killed) process
      const secondPid = server.pid
      yield* server.restart()
      assert.isFalse(isAlive(secondPid))
      assert.isTrue(Option.isNone(yield* asciiGet(server.address, "k")))
    }))

  it.scoped("kill with SIGTERM waits for a graceful exit", () =>
    Effect.gen(function*() {
      const server = yield* startMemcached()
      const pid = server.pid
      yield* server.kill("SIGTERM")
      assert.isFalse(isAlive(pid))
    }))

  // scopedLive: the short timeout below must run on the real clock.
  it.scopedLive("stop freezes the server, resume thaws it", () =>
    Effect.gen(function*() {
      const server = yield* startMemcached()
      yield* asciiSet(server.address, "k", 3, "frozen")

      yield* server.stop()
      // The kernel still accepts the connection, but nobody answers.
      const whileStopped = yield* asciiGet(server.address, "k").pipe(Effect.timeoutOption("150 millis"))
      assert.isTrue(Option.isNone(whileStopped), "get must time out while the server is stopped")

      yield* server.resume()
      const got = Option.getOrThrow(yield* asciiGet(server.address, "k"))
      assert.strictEqual(got.bytes.toString(), "frozen")
    }))

  it.live("closing the scope kills the process, even while it is stopped", () =>
    Effect.gen(function*() {
      const pid = yield* Effect.scoped(
        Effect.gen(function*() {
          const server = yield* startMemcached()
          assert.isTrue(isAlive(server.pid))
          return server.pid
        })
      )
      assert.isFalse(isAlive(pid))

      const stoppedPid = yield* Effect.scoped(
        Effect.gen(function*() {
          const server = yield* startMemcached()
          yield* server.stop()
          return server.pid
        })
      )
      assert.isFalse(isAlive(stoppedPid))
    }))

  it.live("MemcachedServer.layer provides a running server and stops it afterwards", () =>
    Effect.gen(function*() {
      const pid = yield* Effect.gen(function*() {
        const server = yield* MemcachedServer
        yield* asciiSet(server.address, "layer", 0, "ok")
        assert.isTrue(Option.isSome(yield* asciiGet(server.address, "layer")))
        return server.pid
      }).pipe(Effect.provide(MemcachedServer.layer))
      assert.isFalse(isAlive(pid))
    }))

  it.scoped("SASL server: memjs with the right credentials works, wrong ones and ASCII are refused", () =>
    Effect.gen(function*() {
      // Layer.build ties the server to the test's scope (Effect.provide would
      // tear it down as soon as the provided effect completes).
      const context = yield* Layer.build(MemcachedServer.layerSasl("alice", "s3cret-pw"))
      const server = Context.get(context, MemcachedServer)
      // Under SASL memcached speaks binary only; a text command is rejected
      // (invalid magic byte -> connection closed).
      const ascii = yield* Effect.exit(asciiGet(server.address, "a-key-long-enough-to-fill-a-binary-header"))
      assert.isTrue(Exit.isFailure(ascii), "ASCII protocol must be refused on a SASL server")

      assert.strictEqual(yield* memjsRoundTrip(server.address, "alice", "s3cret-pw"), "sasl-value")

      const wrongPassword = yield* Effect.flip(memjsRoundTrip(server.address, "alice", "wrong"))
      assert.match(wrongPassword, /authentication failed/i)
      const wrongUser = yield* Effect.flip(memjsRoundTrip(server.address, "mallory", "s3cret-pw"))
      assert.match(wrongUser, /authentication failed/i)
    }))
})
