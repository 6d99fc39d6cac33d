/**
 * Unit tests of the shared rules in `src/engine/`, through the Effect side's wrappers in `src/internal/`: keys, TTLs,
 * server strings and the item size limit. Both stores sit behind these rules, so they are tested here once, directly,
 * plus a few checks that the stores apply them.
 */
import { assert, describe, it, layer } from "@effect/vitest"
import { Duration, Effect, Either, FastCheck, Layer, Option } from "effect"
import { createHash } from "node:crypto"
import { DEFAULT_MAX_ITEM_SIZE, ITEM_OVERHEAD, maxValueBytes } from "../src/engine/itemSize.js"
import { checkPrefix, MAX_KEY_BYTES } from "../src/engine/keys.js"
import { DEFAULT_PORT } from "../src/engine/servers.js"
import { expiresAtMillis, MAX_EXPIRATION, MAX_RELATIVE_SECONDS, toExpirationField } from "../src/engine/ttl.js"
import { Cache, InvalidKey, Memcached, MemcachedTest, type Ttl, ValueTooLarge } from "../src/index.js"
import { makeKeyEncoder } from "../src/internal/keys.js"
import { parseServers } from "../src/internal/servers.js"
import { decodeTtl, decodeWithUnits } from "../src/internal/ttl.js"
import { asciiGet } from "./support/asciiClient.js"
import { MemcachedServer } from "./support/MemcachedServer.js"

const bytesOf = (text: string) => Buffer.byteLength(text, "utf8")

/** Cuts `text` (code point by code point) to at most `budget` UTF-8 bytes. */
const truncateToBytes = (text: string, budget: number): string => {
  let out = ""
  let size = 0
  for (const char of text) {
    const n = bytesOf(char)
    if (size + n > budget) break
    out += char
    size += n
  }
  return out
}

const forbidden = /[\s\p{Cc}]/u
const allowed = (char: string) => !forbidden.test(char)

/** One code point that a key may hold: printable ASCII, any Unicode scalar, and a few multi-byte favourites. */
const keyChar = FastCheck.oneof(
  FastCheck.char().filter(allowed),
  FastCheck.fullUnicode().filter(allowed),
  FastCheck.constantFrom("€", "😀", "é", "中", "#", ":", "\u{10FFFF}", "\u00ad")
)
const keyText = (maxLength: number) => FastCheck.string({ unit: keyChar, minLength: 0, maxLength })

/** Whitespace (ASCII and Unicode White_Space) and control characters (C0, DEL, C1). */
const badChar = FastCheck.oneof(
  FastCheck.integer({ min: 0x00, max: 0x20 }).map((code) => String.fromCharCode(code)),
  FastCheck.integer({ min: 0x7f, max: 0x9f }).map((code) => String.fromCharCode(code)),
  FastCheck.constantFrom(
    "\u00a0",
    "\u1680",
    "\u2000",
    "\u2005",
    "\u200a",
    "\u2028",
    "\u2029",
    "\u202f",
    "\u205f",
    "\u3000"
  )
)

const expectInvalid = (result: Either.Either<unknown, InvalidKey>, key: string): InvalidKey => {
  assert.isTrue(Either.isLeft(result), `expected InvalidKey for ${JSON.stringify(key)}`)
  const error = (result as Either.Left<InvalidKey, unknown>).left
  assert.instanceOf(error, InvalidKey)
  assert.strictEqual(error._tag, "InvalidKey")
  assert.strictEqual(error.key, key)
  return error
}

const expectWire = (result: Either.Either<{ key: string; text: string; bytes: Buffer }, InvalidKey>) => {
  if (Either.isLeft(result)) assert.fail(`expected the key to be accepted, got: ${result.left.reason}`)
  return (result as Either.Right<InvalidKey, { key: string; text: string; bytes: Buffer }>).right
}

describe("key rules (makeKeyEncoder)", () => {
  it.prop(
    "accepts any 1-250 byte key free of whitespace, control chars and lone surrogates; wire = prefix + key in UTF-8",
    {
      prefix: keyText(12).map((p) => truncateToBytes(p, 40)),
      key: FastCheck.string({ unit: keyChar, minLength: 1, maxLength: 250 })
    },
    ({ key: raw, prefix }) => {
      const key = truncateToBytes(raw, MAX_KEY_BYTES - bytesOf(prefix))
      assert.isAbove(key.length, 0)
      const wire = expectWire(makeKeyEncoder({ keyPrefix: prefix })(key))
      assert.strictEqual(wire.key, key)
      assert.strictEqual(wire.text, prefix + key)
      assert.isTrue(wire.bytes.equals(Buffer.from(prefix + key, "utf8")))
      assert.isAtMost(wire.bytes.length, MAX_KEY_BYTES)
    },
    { fastCheck: { numRuns: 300 } }
  )

  it.prop(
    "accepts keys of exactly 250 bytes, prefix included, and rejects one byte more",
    { prefix: keyText(10).map((p) => truncateToBytes(p, 30)), key: keyText(60) },
    ({ key, prefix }) => {
      const encode = makeKeyEncoder({ keyPrefix: prefix })
      const fill = MAX_KEY_BYTES - bytesOf(prefix) - bytesOf(key)
      const exact = key + "x".repeat(Math.max(fill, 0))
      if (fill >= 0) assert.strictEqual(expectWire(encode(exact)).bytes.length, MAX_KEY_BYTES)
      const over = exact + "y"
      const error = expectInvalid(encode(over), over)
      assert.include(error.reason, `${bytesOf(prefix) + bytesOf(over)} UTF-8 bytes`)
    }
  )

  it.prop(
    "rejects any key containing whitespace or a control character",
    { before: keyText(20), bad: badChar, after: keyText(20), hash: FastCheck.boolean() },
    ({ after, bad, before, hash }) => {
      const key = before + bad + after
      const error = expectInvalid(makeKeyEncoder({ hashLongKeys: hash })(key), key)
      assert.strictEqual(error.reason, "contains whitespace or a control character")
    },
    { fastCheck: { numRuns: 300 } }
  )

  it.prop(
    "rejects any key holding a lone surrogate",
    { before: keyText(10), lone: FastCheck.integer({ min: 0xd800, max: 0xdfff }), after: keyText(10) },
    ({ after, before, lone }) => {
      const key = before + String.fromCharCode(lone) + after
      assert.isFalse(Buffer.from(key, "utf8").toString("utf8") === key, "the key is not well-formed")
      const error = expectInvalid(makeKeyEncoder({})(key), key)
      assert.include(error.reason, "lone UTF-16 surrogate")
    }
  )

  it("keeps \"k\\ud800\" and \"k\\udfff\" apart by rejecting both", () => {
    const encode = makeKeyEncoder({})
    expectInvalid(encode("k\ud800"), "k\ud800")
    expectInvalid(encode("k\udfff"), "k\udfff")
    assert.strictEqual(expectWire(encode("k\ud83d\ude00")).bytes.length, 5)
  })

  it("rejects the empty key", () => {
    assert.strictEqual(expectInvalid(makeKeyEncoder({ keyPrefix: "app:" })(""), "").reason, "is empty")
  })

  it("counts UTF-8 bytes, not JS length", () => {
    const encode = makeKeyEncoder({})
    const euro83 = "€".repeat(83)
    assert.strictEqual(expectWire(encode(euro83)).bytes.length, 249)
    const euro84 = "€".repeat(84)
    assert.strictEqual(euro84.length, 84)
    assert.include(expectInvalid(encode(euro84), euro84).reason, "252 UTF-8 bytes")

    const emoji62 = "😀".repeat(62)
    assert.strictEqual(emoji62.length, 124)
    assert.strictEqual(expectWire(encode(emoji62)).bytes.length, 248)
    const emoji63 = "😀".repeat(63)
    assert.strictEqual(emoji63.length, 126)
    assert.include(expectInvalid(encode(emoji63), emoji63).reason, "252 UTF-8 bytes")

    assert.strictEqual(expectWire(encode("a".repeat(250))).bytes.length, 250)
    expectInvalid(encode("a".repeat(251)), "a".repeat(251))
  })

  it("counts the prefix toward the 250 bytes", () => {
    const encode = makeKeyEncoder({ keyPrefix: "app€:" }) // 7 bytes
    const fits = "k".repeat(243)
    const wire = expectWire(encode(fits))
    assert.strictEqual(wire.text, `app€:${fits}`)
    assert.strictEqual(wire.bytes.length, 250)
    const over = "k".repeat(244)
    const error = expectInvalid(encode(over), over)
    assert.include(error.reason, "251 UTF-8 bytes with its prefix")
    // Without the prefix, the same key is fine.
    assert.strictEqual(expectWire(makeKeyEncoder({})(over)).bytes.length, 244)
  })

  it("checks the prefix's own characters and length", () => {
    assert.isUndefined(checkPrefix(""))
    assert.isUndefined(checkPrefix("app:v1:"))
    assert.isUndefined(checkPrefix("p".repeat(185)))
    assert.isString(checkPrefix("p".repeat(186)))
    assert.isString(checkPrefix("my app:"))
    assert.isString(checkPrefix("app\n"))
  })

  it("hashLongKeys: a long key becomes prefix + '#' + sha256(key), within 250 bytes", () => {
    const encode = makeKeyEncoder({ keyPrefix: "app:", hashLongKeys: true })
    const long = "€".repeat(200)
    const wire = expectWire(encode(long))
    const hex = createHash("sha256").update(long, "utf8").digest("hex")
    assert.strictEqual(wire.key, long)
    assert.strictEqual(wire.text, `app:#${hex}`)
    assert.isTrue(wire.bytes.equals(Buffer.from(`app:#${hex}`, "utf8")))
    // Keys that fit are left alone.
    assert.strictEqual(expectWire(encode("short")).text, "app:short")
    assert.strictEqual(expectWire(encode("a".repeat(246))).text, `app:${"a".repeat(246)}`)
    assert.strictEqual(expectWire(encode("a".repeat(247))).text.length, 4 + 65)
    // The longest prefix allowed still leaves room for the hash.
    const maxPrefix = "p".repeat(185)
    assert.isUndefined(checkPrefix(maxPrefix))
    assert.strictEqual(expectWire(makeKeyEncoder({ keyPrefix: maxPrefix, hashLongKeys: true })(long)).bytes.length, 250)
  })

  it.prop(
    "hashLongKeys maps long keys to a bounded, deterministic and distinct wire key",
    {
      prefix: keyText(20).map((p) => truncateToBytes(p, 185)),
      a: FastCheck.string({ unit: keyChar, minLength: 1, maxLength: 300 }),
      b: FastCheck.string({ unit: keyChar, minLength: 1, maxLength: 300 })
    },
    ({ a, b, prefix }) => {
      const encode = makeKeyEncoder({ keyPrefix: prefix, hashLongKeys: true })
      const longA = a + "a".repeat(251)
      const longB = b + "a".repeat(251)
      const wireA = expectWire(encode(longA))
      assert.isAtMost(wireA.bytes.length, MAX_KEY_BYTES)
      assert.isTrue(wireA.text.startsWith(prefix))
      assert.strictEqual(wireA.key, longA)
      assert.strictEqual(expectWire(encode(longA)).text, wireA.text, "deterministic")
      assert.strictEqual(
        expectWire(makeKeyEncoder({ keyPrefix: prefix, hashLongKeys: true })(longA)).text,
        wireA.text,
        "the same in another encoder (another process)"
      )
      if (longA !== longB) assert.notStrictEqual(expectWire(encode(longB)).text, wireA.text)
    },
    { fastCheck: { numRuns: 200 } }
  )

  it("hashLongKeys does not excuse bad characters", () => {
    const key = `${"a".repeat(300)} b`
    assert.strictEqual(
      expectInvalid(makeKeyEncoder({ hashLongKeys: true })(key), key).reason,
      "contains whitespace or a control character"
    )
  })

  it("returns InvalidKey (never throws) for non-string keys at runtime", () => {
    const encode = makeKeyEncoder({ keyPrefix: "app:" })
    const cases: ReadonlyArray<readonly [unknown, string]> = [
      [42, "42"],
      [null, "null"],
      [undefined, "undefined"],
      [{ a: 1 }, "[object Object]"],
      [["a", "b"], "a,b"],
      [Symbol("k"), "Symbol(k)"],
      [Object.create(null), ""]
    ]
    for (const [value, shown] of cases) {
      let result: Either.Either<unknown, InvalidKey> | undefined
      try {
        result = encode(value)
      } catch (error) {
        assert.fail(`encoding a ${typeof value} key threw instead of returning InvalidKey: ${String(error)}`)
      }
      assert.isTrue(result !== undefined && Either.isLeft(result))
      const error = (result as Either.Left<InvalidKey, unknown>).left
      assert.instanceOf(error, InvalidKey)
      assert.include(error.reason, "must be a string")
      if (shown !== "") assert.strictEqual(error.key, shown)
    }
  })

  it.effect("the stores report non-string keys as InvalidKey failures, not defects", () =>
    Effect.gen(function*() {
      const cache = yield* Cache
      const memcached = yield* Memcached
      const asKey = (value: unknown) => value as string
      for (const value of [7, null, undefined, { k: 1 }, ["k"]]) {
        const fromGet = yield* Effect.flip(cache.get(asKey(value)))
        assert.instanceOf(fromGet, InvalidKey)
        assert.instanceOf(yield* Effect.flip(cache.set(asKey(value), "v")), InvalidKey)
        assert.instanceOf(yield* Effect.flip(cache.remove("rules-ok", asKey(value))), InvalidKey)
        assert.instanceOf(yield* Effect.flip(cache.getMany(["rules-ok", asKey(value)])), InvalidKey)
        assert.instanceOf(yield* Effect.flip(memcached.touch(asKey(value), "1 second")), InvalidKey)
      }
    }).pipe(Effect.provide(MemcachedTest)))
})

describe("TTL rules", () => {
  // 2025-01-01T00:00:00.500Z: half a second into a whole second, to catch rounding of `now`.
  const now = Date.UTC(2025, 0, 1, 0, 0, 0, 500)
  const nowSeconds = Math.floor(now / 1000)
  const DAY = 24 * 60 * 60

  const after = (seconds: number) => ({ _tag: "After" as const, seconds })
  const toExpiry = (ttl: Ttl) => Either.getOrThrow(decodeTtl(ttl))

  it("null and Duration.infinity never expire", () => {
    for (const ttl of [null, Duration.infinity]) {
      const expiry = toExpiry(ttl)
      assert.deepStrictEqual(expiry, { _tag: "Never" })
      assert.strictEqual(toExpirationField(expiry, now), 0)
      assert.isUndefined(expiresAtMillis(expiry, now))
    }
  })

  it("zero and negative durations expire at once", () => {
    for (const ttl of [Duration.zero, "0 seconds", "-5 seconds", Duration.millis(-1), [0, 0]] as const) {
      const expiry = toExpiry(ttl)
      assert.deepStrictEqual(expiry, { _tag: "Expired" }, `ttl ${String(ttl)}`)
      // memcached reads values over 30 days as an absolute unix time: this one must lie in the past.
      const field = toExpirationField(expiry, now)
      assert.isAbove(field, MAX_RELATIVE_SECONDS)
      assert.isBelow(field, nowSeconds)
      assert.strictEqual(expiresAtMillis(expiry, now), now)
    }
  })

  it("rounds positive durations up to whole seconds", () => {
    const cases: ReadonlyArray<readonly [Ttl, number]> = [
      [Duration.nanos(1n), 1],
      ["1 millis", 1],
      ["500 millis", 1],
      [Duration.millis(999), 1],
      ["1 second", 1],
      [[1, 0], 1],
      [Duration.millis(1001), 2],
      [Duration.millis(1500), 2],
      ["1.5 seconds", 2],
      ["2 seconds", 2],
      ["5 minutes", 300]
    ]
    for (const [ttl, seconds] of cases) {
      const expiry = toExpiry(ttl)
      assert.deepStrictEqual(expiry, after(seconds), `ttl ${String(ttl)}`)
      assert.strictEqual(toExpirationField(expiry, now), seconds)
    }
  })

  it("the fake's expiry follows memcached's whole-second clock", () => {
    assert.strictEqual(expiresAtMillis(toExpiry("500 millis"), now), (nowSeconds + 1) * 1000)
    assert.strictEqual(expiresAtMillis(toExpiry(Duration.millis(1500)), now), (nowSeconds + 2) * 1000)
    assert.strictEqual(expiresAtMillis(toExpiry("1 second"), now + 499), (nowSeconds + 1) * 1000)
  })

  it("sends up to 30 days as relative seconds and longer TTLs as an absolute unix time", () => {
    const thirty = toExpiry(Duration.days(30))
    assert.deepStrictEqual(thirty, after(30 * DAY))
    assert.strictEqual(toExpirationField(thirty, now), 2_592_000)
    assert.strictEqual(MAX_RELATIVE_SECONDS, 2_592_000)

    const thirtyPlusOne = toExpiry(Duration.sum(Duration.days(30), Duration.seconds(1)))
    assert.deepStrictEqual(thirtyPlusOne, after(30 * DAY + 1))
    assert.strictEqual(toExpirationField(thirtyPlusOne, now), nowSeconds + 30 * DAY + 1)

    const thirtyPlusOneMilli = toExpiry(Duration.sum(Duration.days(30), Duration.millis(1)))
    assert.strictEqual(toExpirationField(thirtyPlusOneMilli, now), nowSeconds + 30 * DAY + 1)

    const sixty = toExpiry("60 days")
    assert.deepStrictEqual(sixty, after(60 * DAY))
    assert.strictEqual(toExpirationField(sixty, now), nowSeconds + 60 * DAY)
    assert.strictEqual(expiresAtMillis(sixty, now), (nowSeconds + 60 * DAY) * 1000)
    assert.strictEqual(expiresAtMillis(thirtyPlusOne, now), (nowSeconds + 30 * DAY + 1) * 1000)
  })

  it("caps a TTL beyond 2106 at the largest 32-bit expiration, in both stores", () => {
    const expiry = toExpiry(Duration.days(365 * 150))
    assert.strictEqual(MAX_EXPIRATION, 0xffff_ffff)
    assert.strictEqual(toExpirationField(expiry, now), 0xffff_ffff)
    // The fake must agree with the real server: that item stops at the same instant (2106-02-07T06:28:15Z).
    assert.strictEqual(expiresAtMillis(expiry, now), 0xffff_ffff * 1000)
  })

  it("a bare number has no unit: refused with the fix, whatever its value", () => {
    const reasonFor = (ttl: unknown) => {
      const result = decodeTtl(ttl)
      if (Either.isRight(result)) return assert.fail(`${String(ttl)} was read as a TTL`)
      return result.left
    }
    for (const [ttl, shown] of [[300, "300"], [0, "0"], [-5, "-5"], [1.5, "1.5"], [300n, "300"]] as const) {
      const reason = reasonFor(ttl)
      assert.include(reason, "bare number")
      assert.include(reason, `"${shown} seconds" or Duration.seconds(${shown})`)
    }
    assert.include(reasonFor(Infinity), "Duration.infinity")
    assert.include(reasonFor(Number.NaN), "NaN")
  })

  it("anything else that is not a duration is refused, never thrown", () => {
    const odd: ReadonlyArray<unknown> = [
      "not a duration",
      "5 fortnights",
      "300",
      { seconds: 5 },
      [1, 2, 3],
      true,
      Symbol("ttl"),
      Object.create(null),
      { toString: () => assert.fail("toString must not be relied on") }
    ]
    for (const ttl of odd) {
      const result = decodeWithUnits(ttl)
      assert.isTrue(Either.isLeft(result), String(typeof ttl))
      assert.include(Either.getLeft(result).pipe(Option.getOrThrow), "not a duration")
    }
    assert.deepStrictEqual(decodeTtl(null), Either.right({ _tag: "Never" }))
  })
})

describe("server lists (parseServers)", () => {
  const ok = (input: string | ReadonlyArray<string> | undefined) => {
    const result = parseServers(input)
    if (Either.isLeft(result)) assert.fail(`expected ${JSON.stringify(input)} to parse, got: ${result.left}`)
    return (result as Either.Right<
      string,
      ReadonlyArray<{ host: string; port: number; weight: number; label: string }>
    >).right
  }
  const bad = (input: string | ReadonlyArray<string>) => {
    const result = parseServers(input)
    assert.isTrue(Either.isLeft(result), `expected ${JSON.stringify(input)} to be rejected`)
    return (result as Either.Left<string, unknown>).left
  }

  it("defaults to localhost:11211", () => {
    assert.strictEqual(DEFAULT_PORT, 11211)
    assert.deepStrictEqual(ok(undefined), [{ host: "localhost", port: 11211, weight: 1, label: "localhost:11211" }])
  })

  it("parses comma-separated strings with spaces, and lists", () => {
    const expected = [
      { host: "cache-1.internal", port: 11211, weight: 1, label: "cache-1.internal:11211" },
      { host: "10.0.0.2", port: 11212, weight: 1, label: "10.0.0.2:11212" }
    ]
    assert.deepStrictEqual(ok("cache-1.internal:11211,10.0.0.2:11212"), expected)
    assert.deepStrictEqual(ok("  cache-1.internal:11211 ,  10.0.0.2:11212  "), expected)
    assert.deepStrictEqual(ok(["cache-1.internal:11211", " 10.0.0.2:11212 "]), expected)
  })

  it("uses the default port when none is given", () => {
    assert.deepStrictEqual(ok("cache-1, cache-2:2000"), [
      { host: "cache-1", port: 11211, weight: 1, label: "cache-1:11211" },
      { host: "cache-2", port: 2000, weight: 1, label: "cache-2:2000" }
    ])
  })

  it("parses weights, in strings and as objects", () => {
    assert.deepStrictEqual(ok("a:11212:3,b"), [
      { host: "a", port: 11212, weight: 3, label: "a:11212" },
      { host: "b", port: 11211, weight: 1, label: "b:11211" }
    ])
    assert.deepStrictEqual(
      parseServers([{ host: "c", weight: 2 }, "[::1]:11300:4"]),
      Either.right([
        { host: "c", port: 11211, weight: 2, label: "c:11211" },
        { host: "::1", port: 11300, weight: 4, label: "[::1]:11300" }
      ])
    )
  })

  it("parses bracketed IPv6 addresses", () => {
    assert.deepStrictEqual(ok("[::1]:11211"), [{ host: "::1", port: 11211, weight: 1, label: "[::1]:11211" }])
    assert.deepStrictEqual(ok(["[fe80::1]"]), [{ host: "fe80::1", port: 11211, weight: 1, label: "[fe80::1]:11211" }])
  })

  it("rejects bad ports, empty lists and malformed entries", () => {
    for (const input of ["host:0", "host:65536", "host:99999"]) {
      assert.include(bad(input), "bad port in server", input)
    }
    for (const input of ["host:abc", "host:", "host:-1", "::1:11211", "a:1:2:3", "a:1:x"]) {
      assert.include(bad(input), "not a host[:port[:weight]] server address", input)
    }
    assert.include(bad("a:1:0"), "must be a whole number from 1 up")
    assert.include(bad("a:1,a:1"), "listed twice")
    assert.strictEqual(bad(""), "no memcached server is configured")
    assert.strictEqual(bad(" , "), "no memcached server is configured")
    assert.strictEqual(bad([]), "no memcached server is configured")
    assert.deepStrictEqual(ok("host:65535"), [{ host: "host", port: 65535, weight: 1, label: "host:65535" }])
  })

  it("rejects credentials in the server string without echoing them", () => {
    for (const input of ["alice:s3cret-pw@cache:11211", "cache:11211,alice:s3cret-pw@other:11211"]) {
      const message = bad(input)
      assert.include(message, "username/password options")
      assert.notInclude(message, "s3cret-pw")
    }
  })
})

describe("item size rule", () => {
  it("maxValueBytes subtracts memcached's per-item overhead and the key bytes", () => {
    assert.strictEqual(DEFAULT_MAX_ITEM_SIZE, 1_048_576)
    assert.strictEqual(ITEM_OVERHEAD, 59)
    assert.strictEqual(maxValueBytes(1_048_576, 0), 1_048_517)
    assert.strictEqual(maxValueBytes(1_048_576, 10), 1_048_507)
    assert.strictEqual(maxValueBytes(1_048_576, 250), 1_048_267)
    assert.strictEqual(maxValueBytes(2 * 1_048_576, 4), 2_097_089)
  })

  it.effect("the limit counts the prefixed key in UTF-8 bytes", () =>
    Effect.gen(function*() {
      const memcached = yield* Memcached
      const key = "size-€" // 8 bytes, 6 JS chars; with "app:" 12 bytes
      const limit = maxValueBytes(DEFAULT_MAX_ITEM_SIZE, 12)
      yield* memcached.set(key, new Uint8Array(limit))
      const stored = yield* memcached.get(key)
      assert.strictEqual(Option.getOrThrow(stored).value.length, limit)
      const error = yield* Effect.flip(memcached.set(key, new Uint8Array(limit + 1)))
      assert.instanceOf(error, ValueTooLarge)
      assert.deepStrictEqual({ key: error.key, size: error.size, limit: error.limit }, {
        key,
        size: limit + 1,
        limit
      })
    }).pipe(Effect.provide(Memcached.layerMemory({ keyPrefix: "app:" }))))
})

const RealServer = Layer.unwrapEffect(
  Effect.map(MemcachedServer, (server) => Memcached.layer({ servers: server.address, keyPrefix: "rules:" }))
).pipe(Layer.provideMerge(MemcachedServer.layer))

layer(RealServer, { excludeTestServices: true })("the same rules against a real memcached 1.6", (it) => {
  it.effect("a value of exactly maxValueBytes stores, one byte more is refused before sending", () =>
    Effect.gen(function*() {
      const memcached = yield* Memcached
      const server = yield* MemcachedServer
      for (const key of ["size-real-short", `size-real-${"k".repeat(230)}`]) {
        const limit = maxValueBytes(DEFAULT_MAX_ITEM_SIZE, bytesOf(`rules:${key}`))
        const value = new Uint8Array(limit).fill(7)
        yield* memcached.set(key, value)
        const stored = yield* asciiGet(server.address, `rules:${key}`)
        assert.strictEqual(Option.getOrThrow(stored).bytes.length, limit)
        const error = yield* Effect.flip(memcached.set(key, new Uint8Array(limit + 1)))
        assert.instanceOf(error, ValueTooLarge)
        assert.strictEqual(error.limit, limit)
        // Refused before sending: the previous value is still there.
        assert.strictEqual(Option.getOrThrow(yield* memcached.get(key)).value.length, limit)
      }
    }))

  it.effect("a 250-byte wire key round-trips; the encoder's bytes are what memcached stores", () =>
    Effect.gen(function*() {
      const memcached = yield* Memcached
      const server = yield* MemcachedServer
      const key = `edge-${"w".repeat(250 - 6 - 5)}` // "rules:" is 6 bytes
      yield* memcached.set(key, Buffer.from("edge"))
      const seen = yield* asciiGet(server.address, `rules:${key}`)
      assert.strictEqual(Option.getOrThrow(seen).bytes.toString("utf8"), "edge")
      assert.instanceOf(yield* Effect.flip(memcached.set(`${key}w`, Buffer.from("x"))), InvalidKey)
    }))
})
