/**
 * The ready-made production layer: real memcached configured from the environment, with structured values.
 *
 * @since 2.0.0
 */
import * as Config from "effect/Config"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { checkPrefix } from "../../src/engine/keys.js"
import type { Protocol } from "../../src/engine/options.js"
import { checkProtocol } from "../../src/engine/options.js"
import { BadServers, DEFAULT_SERVERS, parseServers } from "../../src/engine/servers.js"
import { BadTls, tlsFromEnvironment } from "../../src/engine/tls.js"
import { Cache } from "./Cache.js"
import type { MemcachedError } from "./errors/MemcachedError.js"
import { Memcached } from "./Memcached.js"
import { Serializer } from "./Serializer.js"

/** A positive duration from the environment: `"2 seconds"`, `"500 millis"`, or a bare number of seconds. */
const durationVar = (name: string, fallback: Duration.Input) =>
  Config.String(name).pipe(
    Config.mapEffect((text) => {
      const decoded = /^\s*\d+(\.\d+)?\s*$/.test(text)
        ? Option.some(Duration.seconds(Number(text)))
        : Duration.fromInput(text.trim() as Duration.Input)
      return Option.match(decoded, {
        onNone: () => invalid(name, `expected a duration such as "2 seconds" or a number of seconds`),
        onSome: (duration) =>
          Duration.toMillis(duration) > 0
            ? Effect.succeed(duration)
            : invalid(name, `must be more than zero, got ${JSON.stringify(text)}`)
      })
    }),
    Config.withDefault(Duration.fromInputUnsafe(fallback))
  )

const invalid = (name: string, message: string): Effect.Effect<never, Config.ConfigError> =>
  Effect.fail(new Config.ConfigError(new ConfigProvider.SourceError({ message: `${name}: ${message}` })))

const optionalVar = <A>(config: Config.Config<A>) => Config.map(Config.option(config), Option.getOrUndefined)

/**
 * Options read from `MEMCACHED_SERVERS`, `MEMCACHED_USERNAME`, `MEMCACHED_PASSWORD`, `MEMCACHED_TIMEOUT`,
 * `MEMCACHED_TLS` (`1` for TLS), `MEMCACHED_TLS_CA_FILE` (a PEM file of the CAs to trust instead of Node's; turns TLS
 * on), `MEMCACHED_PROTOCOL` (`binary` or `meta`), `CACHE_DEFAULT_TTL`, `CACHE_KEY_PREFIX` and `CACHE_HASH_LONG_KEYS`.
 * No other variable is read.
 *
 * @since 2.0.0
 * @category constructors
 */
export const memcachedEnvConfig = Config.all({
  servers: Config.String("MEMCACHED_SERVERS").pipe(
    Config.withDefault(DEFAULT_SERVERS),
    Config.mapEffect((servers) => {
      const parsed = parseServers(servers)
      return parsed instanceof BadServers ? invalid("MEMCACHED_SERVERS", parsed.reason) : Effect.succeed(servers)
    })
  ),
  username: optionalVar(Config.String("MEMCACHED_USERNAME")),
  password: optionalVar(Config.Redacted("MEMCACHED_PASSWORD")),
  timeout: durationVar("MEMCACHED_TIMEOUT", "1 second"),
  tls: Config.all([optionalVar(Config.String("MEMCACHED_TLS")), optionalVar(Config.String("MEMCACHED_TLS_CA_FILE"))])
    .pipe(Config.mapEffect(([enabled, caFile]) => {
      const tls = tlsFromEnvironment(enabled, caFile)
      return tls instanceof BadTls
        ? Effect.fail(new Config.ConfigError(new ConfigProvider.SourceError({ message: tls.reason })))
        : Effect.succeed(tls)
    })),
  protocol: Config.String("MEMCACHED_PROTOCOL").pipe(
    Config.withDefault("binary"),
    Config.mapEffect((protocol) => {
      const problem = checkProtocol(protocol)
      return problem ? invalid("MEMCACHED_PROTOCOL", problem) : Effect.succeed(protocol as Protocol)
    })
  ),
  defaultTtl: durationVar("CACHE_DEFAULT_TTL", "300 seconds"),
  keyPrefix: Config.String("CACHE_KEY_PREFIX").pipe(
    Config.withDefault(""),
    Config.mapEffect((prefix) => {
      const problem = checkPrefix(prefix)
      return problem ? invalid("CACHE_KEY_PREFIX", problem) : Effect.succeed(prefix)
    })
  ),
  hashLongKeys: Config.Boolean("CACHE_HASH_LONG_KEYS").pipe(Config.withDefault(false))
})

/**
 * `Cache.layer` over `Memcached.layerConfig` of the environment, plus `Serializer.structured`: provides `Cache`,
 * `Memcached` and `Serializer`. Builds even when the servers are down; operations then fail with `MemcachedError`.
 *
 * @since 2.0.0
 * @category layers
 */
export const MemcachedLive: Layer.Layer<Cache | Memcached | Serializer, MemcachedError | Config.ConfigError> = Layer
  .fresh(Cache.layer).pipe(
    Layer.provideMerge(Memcached.layerConfig(memcachedEnvConfig)),
    Layer.provideMerge(Serializer.structured)
  )
