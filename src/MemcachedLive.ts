/**
 * The ready-made production layer: real memcached configured from the environment, with structured values.
 *
 * @since 1.0.0
 */
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { Cache } from "./Cache.js"
import { checkPrefix } from "./engine/keys.js"
import type { Protocol } from "./engine/options.js"
import { checkProtocol } from "./engine/options.js"
import { DEFAULT_SERVERS } from "./engine/servers.js"
import { BadTls, tlsFromEnvironment } from "./engine/tls.js"
import type { MemcachedError } from "./errors/MemcachedError.js"
import { parseServers } from "./internal/servers.js"
import { Memcached } from "./Memcached.js"
import { Serializer } from "./Serializer.js"

/** A positive duration from the environment: `"2 seconds"`, `"500 millis"`, or a bare number of seconds. */
const durationVar = (name: string, fallback: Duration.DurationInput) =>
  Config.string(name).pipe(
    Config.mapOrFail((text) => {
      const decoded = /^\s*\d+(\.\d+)?\s*$/.test(text)
        ? Option.some(Duration.seconds(Number(text)))
        : Duration.decodeUnknown(text.trim())
      return Option.match(decoded, {
        onNone: () => Either.left(invalid(name, `expected a duration such as "2 seconds" or a number of seconds`)),
        onSome: (duration) =>
          Duration.toMillis(duration) > 0
            ? Either.right(duration)
            : Either.left(invalid(name, `must be more than zero, got ${JSON.stringify(text)}`))
      })
    }),
    Config.withDefault(Duration.decode(fallback))
  )

const invalid = (name: string, message: string): ConfigError.ConfigError =>
  ConfigError.InvalidData([], `${name}: ${message}`)

const optionalVar = <A>(config: Config.Config<A>) => Config.map(Config.option(config), Option.getOrUndefined)

/**
 * Options read from `MEMCACHED_SERVERS`, `MEMCACHED_USERNAME`, `MEMCACHED_PASSWORD`, `MEMCACHED_TIMEOUT`,
 * `MEMCACHED_TLS` (`1` for TLS), `MEMCACHED_TLS_CA_FILE` (a PEM file of the CAs to trust instead of Node's; turns TLS
 * on), `MEMCACHED_PROTOCOL` (`binary` or `meta`), `CACHE_DEFAULT_TTL`, `CACHE_KEY_PREFIX` and `CACHE_HASH_LONG_KEYS`.
 * No other variable is read.
 *
 * @since 1.0.0
 * @category constructors
 */
export const memcachedEnvConfig = Config.all({
  servers: Config.string("MEMCACHED_SERVERS").pipe(
    Config.withDefault(DEFAULT_SERVERS),
    Config.mapOrFail((servers) =>
      Either.mapBoth(parseServers(servers), {
        onLeft: (message) => invalid("MEMCACHED_SERVERS", message),
        onRight: () => servers
      })
    )
  ),
  username: optionalVar(Config.string("MEMCACHED_USERNAME")),
  password: optionalVar(Config.redacted("MEMCACHED_PASSWORD")),
  timeout: durationVar("MEMCACHED_TIMEOUT", "1 second"),
  tls: Config.all([optionalVar(Config.string("MEMCACHED_TLS")), optionalVar(Config.string("MEMCACHED_TLS_CA_FILE"))])
    .pipe(Config.mapOrFail(([enabled, caFile]) => {
      const tls = tlsFromEnvironment(enabled, caFile)
      return tls instanceof BadTls ? Either.left(ConfigError.InvalidData([], tls.reason)) : Either.right(tls)
    })),
  protocol: Config.string("MEMCACHED_PROTOCOL").pipe(
    Config.withDefault("binary"),
    Config.mapOrFail((protocol) => {
      const problem = checkProtocol(protocol)
      return problem ? Either.left(invalid("MEMCACHED_PROTOCOL", problem)) : Either.right(protocol as Protocol)
    })
  ),
  defaultTtl: durationVar("CACHE_DEFAULT_TTL", "300 seconds"),
  keyPrefix: Config.string("CACHE_KEY_PREFIX").pipe(
    Config.withDefault(""),
    Config.mapOrFail((prefix) => {
      const problem = checkPrefix(prefix)
      return problem ? Either.left(invalid("CACHE_KEY_PREFIX", problem)) : Either.right(prefix)
    })
  ),
  hashLongKeys: Config.boolean("CACHE_HASH_LONG_KEYS").pipe(Config.withDefault(false))
})

/**
 * `Cache.layer` over `Memcached.layerConfig` of the environment, plus `Serializer.structured`: provides `Cache`,
 * `Memcached` and `Serializer`. Builds even when the servers are down; operations then fail with `MemcachedError`.
 *
 * @since 1.0.0
 * @category layers
 */
export const MemcachedLive: Layer.Layer<Cache | Memcached | Serializer, MemcachedError | ConfigError.ConfigError> =
  Cache.layer.pipe(
    Layer.provideMerge(Memcached.layerConfig(memcachedEnvConfig)),
    Layer.provideMerge(Serializer.structured)
  )
