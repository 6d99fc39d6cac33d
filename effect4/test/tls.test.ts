/**
 * TLS on the Effect 4 line, against real `memcached -Z` with certificates this run makes with openssl
 * (`../../test/support/certificateFiles.ts`, shared with the 1.x line): a round trip, a certificate the client does
 * not trust as `MemcachedError` `Auth`, and a TLS client against a plain server failing at once as `Protocol`.
 */
import { assert, layer } from "@effect/vitest"
import { assertSome } from "@effect/vitest/utils"
import { Context, Effect, Layer } from "effect"
import { type Certificates, createCertificates, removeCertificates } from "../../test/support/certificateFiles.js"
import type { MemcachedOptions } from "../src/index.js"
import { Cache, MemcachedError, Serializer } from "../src/index.js"
import { type RunningServer, startMemcached } from "./support/MemcachedServer.js"

class Servers extends Context.Service<Servers, {
  readonly certificates: Certificates
  /** TLS with the CA's certificate. */
  readonly tls: RunningServer
  readonly plain: RunningServer
}>()("test/TlsServers") {}

const servers = Layer.effect(
  Servers,
  Effect.gen(function*() {
    const certificates = yield* Effect.acquireRelease(
      Effect.promise(createCertificates),
      (made) => Effect.promise(() => removeCertificates(made))
    )
    const { certFile, keyFile } = certificates.server
    const [tls, plain] = yield* Effect.all([startMemcached({ tls: { certFile, keyFile } }), startMemcached()], {
      concurrency: 2
    })
    return { certificates, tls, plain }
  })
)

/** The failure of `cache.get` over a cache with `options`, which must be a `MemcachedError`, and how long it took. */
const failedGet = (options: MemcachedOptions) =>
  Effect.gen(function*() {
    const start = performance.now()
    const error = yield* Effect.flip(
      Effect.flatMap(Cache, (cache) => cache.get("tls-k")).pipe(
        Effect.provide(Cache.layerMemcached(options).pipe(Layer.provide(Serializer.json)))
      )
    )
    const millis = performance.now() - start
    assert.instanceOf(error, MemcachedError)
    return { error: error as MemcachedError, millis }
  })

layer(servers, { excludeTestServices: true, timeout: 30_000 })("TLS (Effect 4, real memcached -Z)", (it) => {
  it.effect("with the CA that signed the server's certificate, values round-trip", () =>
    Effect.gen(function*() {
      const { certificates, tls } = yield* Servers
      yield* Effect.gen(function*() {
        const cache = yield* Cache
        yield* cache.set("tls-a", { over: "tls" })
        assertSome(yield* cache.get("tls-a"), { over: "tls" })
        const big = "x".repeat(300_000)
        yield* cache.set("tls-big", big)
        assertSome(yield* cache.get("tls-big"), big)
      }).pipe(
        Effect.provide(
          Cache.layerMemcached({ servers: tls.address, tls: { ca: certificates.ca } }).pipe(
            Layer.provide(Serializer.json)
          )
        )
      )
    }))

  it.effect("a certificate the client does not trust is MemcachedError Auth that says why, within the timeout", () =>
    Effect.gen(function*() {
      const { certificates, tls } = yield* Servers
      const { error, millis } = yield* failedGet({
        servers: tls.address,
        tls: { ca: certificates.otherCa },
        timeout: "5 seconds"
      })
      assert.strictEqual(error.reason, "Auth")
      assert.strictEqual(error.server, tls.address)
      assert.include(error.message, "the server's certificate was rejected")
      assert.include(error.message, "UNABLE_TO_VERIFY_LEAF_SIGNATURE")
      assert.isBelow(millis, 5_000)
    }))

  it.effect("a TLS client against a plain server fails within the timeout as Protocol, naming TLS", () =>
    Effect.gen(function*() {
      const { certificates, plain } = yield* Servers
      const { error, millis } = yield* failedGet({
        servers: plain.address,
        tls: { ca: certificates.ca },
        timeout: "3 seconds"
      })
      assert.strictEqual(error.reason, "Protocol")
      assert.include(error.message, "the server does not speak TLS")
      assert.isBelow(millis, 3_000)
    }))
})
