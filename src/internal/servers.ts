/**
 * Server-list parsing: `"h1:11211,h2:11211"` or a list, each `host[:port]`, IPv6 as `[::1]:11211`.
 *
 * @internal
 */
import * as Either from "effect/Either"

/** @internal */
export interface ServerAddress {
  readonly host: string
  readonly port: number
  /** `host:port`, as shown in errors and spans. */
  readonly label: string
}

/** @internal memcached's default port. */
export const DEFAULT_PORT = 11211

/** @internal Parses the servers option; a malformed entry is reported as a message, never thrown. */
export const parseServers = (
  servers: string | ReadonlyArray<string> | undefined
): Either.Either<ReadonlyArray<ServerAddress>, string> => {
  const entries = (typeof servers === "string" ? servers.split(",") : servers ?? ["localhost:11211"])
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0)
  if (entries.length === 0) return Either.left("no memcached server is configured")
  const parsed: Array<ServerAddress> = []
  for (const entry of entries) {
    if (entry.includes("@")) {
      return Either.left("put credentials in the username/password options, not in the server list")
    }
    const match = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d+))?$/.exec(entry)
    const port = match?.[3] === undefined ? DEFAULT_PORT : Number(match[3])
    if (!match || !(port > 0 && port < 65536)) {
      return Either.left(`not a host[:port] server address: ${JSON.stringify(entry)}`)
    }
    const host = match[1] ?? match[2]!
    parsed.push({ host, port, label: `${match[1] ? `[${host}]` : host}:${port}` })
  }
  return Either.right(parsed)
}
