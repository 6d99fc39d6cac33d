/**
 * The errors of the Effect 4 line: tags, fields and messages (the Effect 3 line's, checked side by side in
 * parity.test.ts), and what Effect 4 gives a `Schema.TaggedError`: yieldable, `catchTag`, a JSON codec.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { CacheNotFound, InvalidKey, MemcachedError, SerializationError, ValueTooLarge } from "../src/index.js"

describe("errors", () => {
  it("carry their tag, their fields and the Effect 3 line's messages", () => {
    const notFound = new CacheNotFound({ key: "user:1" })
    assert.strictEqual(notFound._tag, "CacheNotFound")
    assert.strictEqual(notFound.key, "user:1")
    assert.strictEqual(notFound.message, "cache key not found: \"user:1\"")
    assert.strictEqual(String(notFound), "CacheNotFound: cache key not found: \"user:1\"")

    const long = "k".repeat(300)
    const invalid = new InvalidKey({ key: long, reason: "longer than 250 bytes" })
    assert.strictEqual(invalid._tag, "InvalidKey")
    assert.strictEqual(invalid.reason, "longer than 250 bytes")
    assert.strictEqual(invalid.message, `invalid cache key "${"k".repeat(60)}"…: longer than 250 bytes`)
    assert.strictEqual(new InvalidKey({ key: "", reason: "empty" }).message, "invalid cache key \"\": empty")

    const tooLarge = new ValueTooLarge({ key: "big", size: 2_000_000, limit: 1_048_000 })
    assert.strictEqual(tooLarge._tag, "ValueTooLarge")
    assert.deepStrictEqual([tooLarge.size, tooLarge.limit], [2_000_000, 1_048_000])
    assert.strictEqual(tooLarge.message, "value for key \"big\" is 2000000 bytes; the limit is 1048000")

    const encode = new SerializationError({ key: "k", direction: "encode", cause: new TypeError("no JSON form") })
    assert.strictEqual(encode._tag, "SerializationError")
    assert.strictEqual(encode.direction, "encode")
    assert.strictEqual(encode.message, "cannot encode the value of key \"k\": no JSON form")
    assert.strictEqual(
      new SerializationError({ key: "k", direction: "decode", cause: "written by json" }).message,
      "cannot decode the value of key \"k\": written by json"
    )
    assert.strictEqual(
      new SerializationError({ key: "k", direction: "decode" }).message,
      "cannot decode the value of key \"k\""
    )

    const bare = new MemcachedError({ reason: "Unavailable" })
    assert.strictEqual(bare._tag, "MemcachedError")
    assert.strictEqual(bare.message, "memcached Unavailable")
    const full = new MemcachedError({
      reason: "Timeout",
      server: "10.0.0.1:11211",
      detail: "no answer in 1000 ms",
      outcomeUnknown: true,
      cause: new Error("socket timeout")
    })
    assert.strictEqual(
      full.message,
      "memcached Timeout at 10.0.0.1:11211: no answer in 1000 ms (the operation may or may not have been applied; " +
        "it was not retried)"
    )
    assert.instanceOf(full.cause, Error)
    assert.strictEqual(full.name, "MemcachedError")
  })

  it("refuse fields outside their schema when constructed", () => {
    // @ts-expect-error not a reason
    assert.throws(() => new MemcachedError({ reason: "Refused" }))
    // @ts-expect-error not a direction
    assert.throws(() => new SerializationError({ key: "k", direction: "both" }))
    // @ts-expect-error size is a number
    assert.throws(() => new ValueTooLarge({ key: "k", size: "1", limit: 2 }))
  })

  it.effect("are yieldable and caught by tag", () =>
    Effect.gen(function*() {
      const failing = Effect.gen(function*() {
        return yield* new CacheNotFound({ key: "gone" })
      })
      const error = yield* Effect.flip(failing)
      assert.instanceOf(error, CacheNotFound)
      assert.instanceOf(error, Error)
      const recovered = yield* failing.pipe(Effect.catchTag("CacheNotFound", (e) => Effect.succeed(`miss ${e.key}`)))
      assert.strictEqual(recovered, "miss gone")
    }))

  it("round-trip through their JSON codec, a cause included", () => {
    const codec = Schema.toCodecJson(MemcachedError)
    const error = new MemcachedError({ reason: "Auth", server: "h:11211", cause: new Error("SASL refused") })
    const json = Schema.encodeSync(codec)(error)
    assert.deepStrictEqual(JSON.parse(JSON.stringify(json)), {
      _tag: "MemcachedError",
      reason: "Auth",
      server: "h:11211",
      cause: { name: "Error", message: "SASL refused" }
    })
    const back = Schema.decodeUnknownSync(codec)(json)
    assert.instanceOf(back, MemcachedError)
    assert.strictEqual(back.message, error.message)
    assert.strictEqual((back.cause as Error).message, "SASL refused")

    const notFound = Schema.decodeUnknownSync(Schema.toCodecJson(CacheNotFound))({ _tag: "CacheNotFound", key: "k" })
    assert.instanceOf(notFound, CacheNotFound)
    assert.throws(() => Schema.decodeUnknownSync(Schema.toCodecJson(CacheNotFound))({ _tag: "CacheNotFound" }))
  })
})
