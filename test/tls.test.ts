/**
 * TLS against real `memcached -Z` processes, with certificates this run makes (`support/certificates.ts`): the trusted
 * CA, Node's CAs, a wrong CA, an expired certificate, a name the certificate does not carry, mutual TLS with and
 * without a client certificate, SASL over TLS, plain and TLS clients against the other kind of server, a pool with one
 * TLS server down, the facade, `MemcachedLive`'s environment, and bad options.
 */
import { assert, layer as layerSuite } from "@effect/vitest"
import { assertSome } from "@effect/vitest/utils"
import { ConfigError, ConfigProvider, Context, Effect, Exit, Layer, Option, Redacted } from "effect"
import * as Util from "node:util"
import { makeEngineClient } from "../src/engine/client.js"
import { DEFAULT_MAX_ITEM_SIZE } from "../src/engine/itemSize.js"
import { makeMemjsClient } from "../src/engine/memjs.js"
import { ketama } from "../src/engine/placement.js"
import { parseServers } from "../src/engine/servers.js"
import { BadTls, checkTls } from "../src/engine/tls.js"
import type { MemcachedOptions } from "../src/index.js"
import { Cache, MemcachedCache, MemcachedError, MemcachedLive, Serializer } from "../src/index.js"
import { makeCertificates } from "./support/certificates.js"
import { spawnFixture } from "./support/fixtures.js"
import type { RunningServer } from "./support/MemcachedServer.js"
import { startMemcached } from "./support/MemcachedServer.js"
import { elapsed, failureOf } from "./support/outcomes.js"
import { build } from "./support/services.js"

const username = "tls-user"
const password = "tls-secret-pw"

class Servers extends Context.Tag("test/TlsServers")<Servers, {
  readonly certificates: Effect.Effect.Success<typeof makeCertificates>
  /** TLS with the CA's certificate. */
  readonly tls: RunningServer
  /** Mutual TLS: clients need a certificate signed by the CA. */
  readonly mutual: RunningServer
  /** TLS with an expired certificate. */
  readonly expired: RunningServer
  /** TLS and SASL. */
  readonly sasl: RunningServer
  readonly plain: RunningServer
}>() {}

const servers = Layer.scoped(
  Servers,
  Effect.gen(function*() {
    const certificates = yield* makeCertificates
    const { caFile, expiredServer, server } = certificates
    const tls = { certFile: server.certFile, keyFile: server.keyFile }
    const [tlsServer, mutual, expired, sasl, plain] = yield* Effect.all([
      startMemcached({ tls }),
      startMemcached({ tls: { ...tls, clientCaFile: caFile } }),
      startMemcached({ tls: { certFile: expiredServer.certFile, keyFile: expiredServer.keyFile } }),
      startMemcached({ tls, sasl: { username, password } }),
      startMemcached()
    ], { concurrency: "unbounded" })
    return { certificates, tls: tlsServer, mutual, expired, sasl, plain }
  })
)

const open = (options: MemcachedOptions) => build(Cache.layerMemcached(options).pipe(Layer.provide(Serializer.json)))

/** The failure of `effect`, which must be a `MemcachedError`, and how long it took. */
const failure = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.map(elapsed(effect), ({ exit, millis }) => {
    const error = failureOf(exit)
    assert.instanceOf(error, MemcachedError)
    return { error: error as MemcachedError, elapsed: millis }
  })

/** Nothing secret in an error, however it is shown. */
const assertNoSecret = (error: unknown, secrets: ReadonlyArray<string>) => {
  const shown = [String(error), Util.inspect(error, { depth: 20 }), JSON.stringify(error)].join("\n")
  for (const secret of secrets) assert.notInclude(shown, secret)
}

const keyText = (key: Buffer) => key.toString("utf8").split("\n").filter((line) => !line.startsWith("-----")).join("")

layerSuite(servers, { excludeTestServices: true, timeout: 30_000 })("TLS (real memcached -Z)", (it) => {
  it.scoped("with the CA that signed the server's certificate, values round-trip; SASL off", () =>
    Effect.gen(function*() {
      const { certificates, tls } = yield* Servers
      const { cache, memcached } = yield* open({ servers: tls.address, tls: { ca: certificates.ca } })
      yield* cache.set("tls-a", { over: "tls" })
      assertSome(yield* cache.get("tls-a"), { over: "tls" })
      assert.match((yield* memcached.version).get(tls.address) ?? "", /^1\.6\./)
      const big = "x".repeat(300_000)
      yield* cache.set("tls-big", big)
      assertSome(yield* cache.get("tls-big"), big)
    }))

  it.scoped("many requests at once, past a TLS record (16 KiB), small and large together: all answered, both protocols", () =>
    Effect.gen(function*() {
      // memcached 1.6 stalls a TLS connection when a request ends inside a record that holds more requests (see
      // src/engine/tlsRecord.ts): before the engine cut its TLS writes to records, these timed out.
      const { certificates, tls } = yield* Servers
      for (const protocol of ["binary", "meta"] as const) {
        const { cache } = yield* open({ servers: tls.address, protocol, tls: { ca: certificates.ca } })
        const value = (i: number) => `${protocol}:${i}:`.padEnd(i % 50 === 7 ? 20_000 + i : 100 + (i % 13), "v")
        const keys = Array.from({ length: 600 }, (_, i) => `tls-many-${protocol}-${i}`)
        yield* Effect.forEach(keys, (key, i) => cache.set(key, value(i)), { concurrency: "unbounded", discard: true })
        const [singles, batch] = yield* Effect.all([
          Effect.forEach(keys, (key) => cache.get(key), { concurrency: "unbounded" }),
          cache.getMany(keys)
        ], { concurrency: "unbounded" })
        singles.forEach((found, i) => assertSome(found, value(i)))
        assert.strictEqual(batch.size, keys.length)
        keys.forEach((key, i) => assert.strictEqual(batch.get(key), value(i)))
        yield* cache.remove(...keys)
      }
    }))

  it.scoped("the meta protocol dials through the same seam: over TLS it works, and refuses what binary refuses", () =>
    Effect.gen(function*() {
      const { certificates, expired, plain, tls } = yield* Servers
      const { cache } = yield* open({ servers: tls.address, protocol: "meta", tls: { ca: certificates.ca } })
      yield* cache.set("tls-meta", { over: "meta" })
      assertSome(yield* cache.get("tls-meta"), { over: "meta" })

      const untrusted = yield* open({ servers: expired.address, protocol: "meta", tls: { ca: certificates.ca } })
      const rejected = yield* failure(untrusted.cache.get("tls-meta"))
      assert.strictEqual(rejected.error.reason, "Auth")
      assert.include(rejected.error.message, "CERT_HAS_EXPIRED")

      // Never plain text when TLS was asked for, nor the reverse.
      const toPlain = yield* open({ servers: plain.address, protocol: "meta", tls: { ca: certificates.ca } })
      assert.include((yield* failure(toPlain.cache.get("tls-meta"))).error.message, "the server does not speak TLS")
      const toTls = yield* open({ servers: tls.address, protocol: "meta", timeout: "3 seconds" })
      const mismatch = yield* failure(toTls.cache.get("tls-meta"))
      assert.notStrictEqual(mismatch.error.reason, "Timeout")
      assert.include(mismatch.error.message, "set the tls option")
      assert.isBelow(mismatch.elapsed, 3_000)
    }))

  it.scoped("servername picks the name checked against the certificate", () =>
    Effect.gen(function*() {
      const { certificates, tls } = yield* Servers
      const good = yield* open({ servers: tls.address, tls: { ca: certificates.ca, servername: "localhost" } })
      yield* good.cache.set("tls-sni", 1)
      assertSome(yield* good.cache.get("tls-sni"), 1)
      const wrong = yield* open({ servers: tls.address, tls: { ca: certificates.ca, servername: "cache.example" } })
      const { error } = yield* failure(wrong.cache.get("tls-sni"))
      assert.strictEqual(error.reason, "Auth")
      assert.include(error.message, "the server's certificate was rejected")
      assert.include(error.message, "ERR_TLS_CERT_ALTNAME_INVALID")
    }))

  it.scoped("a certificate the client does not trust is an Auth error that says so, at once, never a Timeout", () =>
    Effect.gen(function*() {
      const { certificates, expired, tls } = yield* Servers
      const cases = [
        { name: "Node's CAs", options: { servers: tls.address, tls: true }, code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE" },
        {
          name: "a wrong CA",
          options: { servers: tls.address, tls: { ca: certificates.otherCa } },
          code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE"
        },
        {
          name: "an expired certificate",
          options: { servers: expired.address, tls: { ca: certificates.ca } },
          code: "CERT_HAS_EXPIRED"
        }
      ] as const
      for (const { code, name, options } of cases) {
        const { cache } = yield* open({ ...options, timeout: "5 seconds" })
        const { elapsed, error } = yield* failure(cache.set(`tls-untrusted-${code}`, 1))
        assert.strictEqual(error.reason, "Auth", name)
        assert.strictEqual(error.server, options.servers)
        assert.include(error.message, `TLS: the server's certificate was rejected`, name)
        assert.include(error.message, code, name)
        assert.isBelow(elapsed, 5_000, name)
        // Not ejected: a certificate problem is not a server that is down.
        const again = yield* failure(cache.get(`tls-untrusted-${code}`))
        assert.strictEqual(again.error.reason, "Auth", name)
      }
    }))

  it.scoped("rejectUnauthorized: false connects whatever the certificate", () =>
    Effect.gen(function*() {
      const { expired } = yield* Servers
      const { cache } = yield* open({ servers: expired.address, tls: { rejectUnauthorized: false } })
      yield* cache.set("tls-unchecked", "v")
      assertSome(yield* cache.get("tls-unchecked"), "v")
    }))

  it.scoped("mutual TLS: the CA's client certificate works; none, or a stranger's, is an Auth error", () =>
    Effect.gen(function*() {
      const { certificates, mutual } = yield* Servers
      const { ca, client, stranger } = certificates
      const withCert = yield* open({ servers: mutual.address, tls: { ca, cert: client.cert, key: client.key } })
      yield* withCert.cache.set("tls-mutual", "ok")
      assertSome(yield* withCert.cache.get("tls-mutual"), "ok")

      const without = yield* open({ servers: mutual.address, tls: { ca }, timeout: "5 seconds" })
      const none = yield* failure(without.cache.get("tls-mutual"))
      assert.strictEqual(none.error.reason, "Auth")
      assert.include(none.error.message, "the server requires a client certificate")
      assert.isBelow(none.elapsed, 5_000)

      const strange = yield* open({
        servers: mutual.address,
        tls: { ca, cert: stranger.cert, key: stranger.key },
        timeout: "5 seconds"
      })
      const rejected = yield* failure(strange.cache.get("tls-mutual"))
      assert.strictEqual(rejected.error.reason, "Auth")
      assert.include(rejected.error.message, "the server rejected the client's certificate")
      assertNoSecret(rejected.error, [keyText(stranger.key)])
    }))

  it.scoped("SASL over TLS: the right password works, a wrong one is Auth and never shown", () =>
    Effect.gen(function*() {
      const { certificates, sasl } = yield* Servers
      const tls = { ca: certificates.ca }
      const good = yield* open({ servers: sasl.address, tls, username, password: Redacted.make(password) })
      yield* good.cache.set("tls-sasl", "in")
      assertSome(yield* good.cache.get("tls-sasl"), "in")

      const bad = yield* open({ servers: sasl.address, tls, username, password: Redacted.make(`not-${password}`) })
      const { error } = yield* failure(bad.cache.get("tls-sasl"))
      assert.strictEqual(error.reason, "Auth")
      assert.include(error.message, "SASL")
      assertNoSecret(error, [password])

      const none = yield* open({ servers: sasl.address, tls })
      assert.strictEqual((yield* failure(none.cache.get("tls-sasl"))).error.reason, "Auth")
    }))

  it.scoped("a plain client against a TLS server fails within the timeout, with a message that names TLS", () =>
    Effect.gen(function*() {
      const { tls } = yield* Servers
      const { cache } = yield* open({ servers: tls.address, timeout: "3 seconds" })
      const { elapsed, error } = yield* failure(cache.get("tls-mismatch"))
      assert.notStrictEqual(error.reason, "Timeout")
      assert.include(error.message, "set the tls option")
      assert.isBelow(elapsed, 3_000)
    }))

  it.scoped("a TLS client against a plain server fails within the timeout, with a message that names TLS", () =>
    Effect.gen(function*() {
      const { certificates, plain } = yield* Servers
      const { cache } = yield* open({ servers: plain.address, tls: { ca: certificates.ca }, timeout: "3 seconds" })
      const { elapsed, error } = yield* failure(cache.get("tls-mismatch"))
      assert.strictEqual(error.reason, "Protocol")
      assert.include(error.message, "the server does not speak TLS")
      assert.isBelow(elapsed, 3_000)
    }))

  it.scoped("a pool with one TLS server down: the other's keys still work, the down one's fail fast, then recover", () =>
    Effect.gen(function*() {
      const { certificates } = yield* Servers
      const tls = { certFile: certificates.server.certFile, keyFile: certificates.server.keyFile }
      const [a, b] = yield* Effect.all([startMemcached({ tls }), startMemcached({ tls })], { concurrency: 2 })
      const { cache, memcached } = yield* open({
        servers: [a.address, b.address],
        tls: { ca: certificates.ca },
        ejectAfter: Infinity,
        timeout: "3 seconds"
      })
      const keys = Array.from({ length: 40 }, (_, i) => `tls-pool-${i}`)
      yield* cache.setMany(keys.map((key) => [key, key]))
      yield* b.kill()
      const results = yield* Effect.forEach(keys, (key) => Effect.either(cache.get(key)))
      const hits = results.filter((result) => result._tag === "Right")
      const failures = results.flatMap((result) => result._tag === "Left" ? [result.left] : [])
      assert.isAbove(hits.length, 0)
      assert.isAbove(failures.length, 0)
      for (const hit of hits) assert.isTrue(Option.isSome(hit.right))
      for (const error of failures) {
        assert.instanceOf(error, MemcachedError)
        assert.strictEqual((error as MemcachedError).reason, "Unavailable")
        assert.strictEqual((error as MemcachedError).server, b.address)
      }
      yield* b.restart()
      const versions = yield* memcached.version
      assert.deepStrictEqual([...versions.keys()].sort(), [a.address, b.address].sort())
    }))

  it.scoped("the facade takes the tls option", () =>
    Effect.gen(function*() {
      const { certificates, tls } = yield* Servers
      const facade = yield* Effect.acquireRelease(
        Effect.sync(() =>
          new MemcachedCache({ servers: tls.address, tls: { ca: certificates.ca }, serializer: "json" })
        ),
        (facade) => Effect.promise(() => facade.close())
      )
      yield* Effect.promise(() => facade.set("tls-facade", [1, 2]))
      assert.deepStrictEqual(yield* Effect.promise(() => facade.get("tls-facade")), [1, 2])
    }))

  it.scoped("a facade script configured by MEMCACHED_TLS_CA_FILE alone works over TLS and exits without close()", () =>
    Effect.gen(function*() {
      const { certificates, tls } = yield* Servers
      const child = spawnFixture("facade-env.mts", [], {
        MEMCACHED_SERVERS: tls.address,
        MEMCACHED_TLS_CA_FILE: certificates.caFile
      })
      yield* Effect.addFinalizer(() => Effect.sync(() => child.exitCode === null && child.kill("SIGKILL")))
      let stdout = ""
      let stderr = ""
      child.stdout.on("data", (chunk) => stdout += String(chunk))
      child.stderr.on("data", (chunk) => stderr += String(chunk))
      const code = yield* Effect.async<number | null>((resume) => {
        child.once("exit", (exitCode) => resume(Effect.succeed(exitCode)))
      }).pipe(Effect.timeout("15 seconds"))
      assert.strictEqual(code, 0, stderr)
      assert.strictEqual(stdout, "got configured by the environment\nexit\n")
      assert.strictEqual(stderr, "")
    }))

  it.scoped("the engine alone (as either Effect line drives it): checkTls and makeMemjsClient's tls", () =>
    Effect.gen(function*() {
      const { certificates, tls } = yield* Servers
      const addresses = parseServers(tls.address)
      const settings = checkTls({ ca: certificates.ca })
      if (!Array.isArray(addresses) || settings === undefined || settings instanceof BadTls) {
        return assert.fail("the servers and the tls option are valid")
      }
      const engine = makeEngineClient({
        client: makeMemjsClient(addresses, undefined, undefined, 2000, settings),
        addresses,
        deadlineMillis: 2000,
        maxItemSize: DEFAULT_MAX_ITEM_SIZE,
        placement: ketama(addresses),
        ejection: { ejectAfter: 3, deadMillis: 1000 },
        failover: false,
        unrefIdle: true
      })
      yield* Effect.addFinalizer(() => Effect.promise(() => engine.close(100, true)))
      const versions = yield* Effect.async<unknown>((resume) => {
        engine.version((_: undefined, result) => resume(Effect.succeed(result)), undefined)
      })
      assert.instanceOf(versions, Map)
      assert.match((versions as Map<string, string>).get(tls.address) ?? "", /^1\.6\./)
      assert.isUndefined(checkTls(false))
      assert.instanceOf(checkTls({ socket: {} }), BadTls)
    }))

  it.scoped("MemcachedLive: MEMCACHED_TLS_CA_FILE turns TLS on with that CA; MEMCACHED_TLS=1 alone trusts Node's", () =>
    Effect.gen(function*() {
      const { certificates, tls } = yield* Servers
      const env = (vars: ReadonlyArray<readonly [string, string]>) =>
        Layer.setConfigProvider(ConfigProvider.fromMap(new Map([["MEMCACHED_SERVERS", tls.address], ...vars])))
      const trusted = yield* Layer.build(
        MemcachedLive.pipe(Layer.provide(env([["MEMCACHED_TLS", "1"], ["MEMCACHED_TLS_CA_FILE", certificates.caFile]])))
      )
      yield* Context.get(trusted, Cache).set("tls-env", "v")
      assertSome(yield* Context.get(trusted, Cache).get("tls-env"), "v")

      const nodeCas = yield* Layer.build(MemcachedLive.pipe(Layer.provide(env([["MEMCACHED_TLS", "true"]]))))
      const { error } = yield* failure(Context.get(nodeCas, Cache).get("tls-env"))
      assert.strictEqual(error.reason, "Auth")
    }))
})

/** A layer's build failure, which must be a `ConfigError`, as text. */
const configError = <A, E>(layer: Layer.Layer<A, E>) =>
  Effect.gen(function*() {
    const exit = yield* Effect.exit(Layer.build(layer))
    assert.isTrue(Exit.isFailure(exit))
    const error = Exit.isFailure(exit) ? exit.cause : undefined
    const failed = error && error._tag === "Fail" ? error.error : undefined
    assert.isTrue(ConfigError.isConfigError(failed), String(error))
    return String(failed)
  })

// Bad TLS options and variables: a `ConfigError` (a `TypeError` from the facade) that names them, never a crash.
layerSuite(Layer.empty)("TLS options", (it) => {
  it.scoped("a tls option that is not true, false or an object fails the layer, naming it", () =>
    Effect.gen(function*() {
      const message = yield* configError(
        Cache.layerMemcached({ tls: "yes" as never }).pipe(
          Layer.provide(Serializer.json)
        )
      )
      assert.include(message, "tls must be true, false or Node's tls.ConnectionOptions")
      assert.throws(() => new MemcachedCache({ servers: "127.0.0.1:1", tls: 1 as never }), TypeError, /tls must be/)
    }))

  it.scoped("a certificate or key Node cannot load fails the layer, without quoting it", () =>
    Effect.gen(function*() {
      const secret = "-----BEGIN PRIVATE KEY-----\nnot-really-a-key-but-secret\n-----END PRIVATE KEY-----\n"
      const message = yield* configError(
        Cache.layerMemcached({ servers: "127.0.0.1:1", tls: { key: secret, cert: "garbage" } }).pipe(
          Layer.provide(Serializer.json)
        )
      )
      assert.match(message, /tls: /)
      assert.notInclude(message, "not-really-a-key-but-secret")
    }))

  it.scoped("tls.host and tls.socket are refused: the servers option says where to connect", () =>
    Effect.gen(function*() {
      const message = yield* configError(
        Cache.layerMemcached({ tls: { host: "elsewhere" } }).pipe(Layer.provide(Serializer.json))
      )
      assert.include(message, "tls.host is not supported")
    }))

  it.scoped("MEMCACHED_TLS that is not a boolean, an unreadable CA file, or a CA file with TLS off fail MemcachedLive", () =>
    Effect.gen(function*() {
      const env = (vars: ReadonlyArray<readonly [string, string]>) =>
        MemcachedLive.pipe(Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(vars)))))
      assert.include(yield* configError(env([["MEMCACHED_TLS", "maybe"]])), "MEMCACHED_TLS must be 1 or 0")
      assert.include(
        yield* configError(env([["MEMCACHED_TLS_CA_FILE", "/nonexistent/ca.pem"]])),
        "MEMCACHED_TLS_CA_FILE: cannot read /nonexistent/ca.pem (ENOENT)"
      )
      assert.include(
        yield* configError(env([["MEMCACHED_TLS", "0"], ["MEMCACHED_TLS_CA_FILE", "/nonexistent/ca.pem"]])),
        "MEMCACHED_TLS turns TLS off"
      )
    }))

  it.scoped("an option Node refuses only when dialing fails the operation with a MemcachedError", () =>
    Effect.gen(function*() {
      const { cache } = yield* open({ servers: "127.0.0.1:1", tls: { checkServerIdentity: "nope" as never } })
      const { error } = yield* failure(cache.get("k"))
      assert.strictEqual(error.reason, "Protocol")
      assert.include(error.message, "cannot dial")
    }))
})
