/**
 * The Cache contract over TLS: a real `memcached -Z` with a certificate this run makes, trusted through the `ca`
 * option.
 */
import { Effect, Layer } from "effect"
import { Cache, Serializer } from "../src/index.js"
import { makeCertificates } from "./support/certificates.js"
import { cacheContract } from "./support/contract.js"
import { startMemcached } from "./support/MemcachedServer.js"

const tlsLayer = Layer.unwrapScoped(
  Effect.gen(function*() {
    const { ca, server } = yield* makeCertificates
    const memcached = yield* startMemcached({ tls: { certFile: server.certFile, keyFile: server.keyFile } })
    return Cache.layerMemcached({ servers: memcached.address, keyPrefix: "S:", tls: { ca } })
  })
).pipe(Layer.provide(Serializer.structured))

cacheContract("Cache.layerMemcached over TLS (real memcached -Z)", tlsLayer, { live: true, keyPrefix: "S:" })
