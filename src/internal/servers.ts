/**
 * Server-list parsing: `"h1:11211,h2:11211:3"` or a list of such strings or `{ host, port, weight }` objects; each
 * `host[:port[:weight]]`, IPv6 as `[::1]:11211`.
 *
 * @internal
 */
import * as Either from "effect/Either"

/** @internal A server as the options may give it. */
export interface ServerSpec {
  readonly host: string
  readonly port?: number | undefined
  readonly weight?: number | undefined
}

/** @internal */
export interface ServerAddress {
  readonly host: string
  readonly port: number
  /** Share of the keys, relative to the other servers' weights. */
  readonly weight: number
  /** `host:port`, as shown in errors and spans. */
  readonly label: string
}

/** @internal memcached's default port. */
export const DEFAULT_PORT = 11211

const address = (host: string, port: number, weight: number, entry: unknown): Either.Either<ServerAddress, string> => {
  if (!(Number.isInteger(port) && port > 0 && port < 65536)) {
    return Either.left(`bad port in server ${JSON.stringify(entry)}`)
  }
  if (!(Number.isInteger(weight) && weight >= 1)) {
    return Either.left(`the weight of server ${JSON.stringify(entry)} must be a whole number from 1 up`)
  }
  if (host.length === 0 || host.includes("@")) {
    return Either.left(
      host.includes("@")
        ? "put credentials in the username/password options, not in the server list"
        : `no host in server ${JSON.stringify(entry)}`
    )
  }
  return Either.right({ host, port, weight, label: `${host.includes(":") ? `[${host}]` : host}:${port}` })
}

const parseEntry = (entry: string): Either.Either<ServerAddress, string> => {
  if (entry.includes("@")) {
    return Either.left("put credentials in the username/password options, not in the server list")
  }
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d+)(?::(\d+))?)?$/.exec(entry)
  if (!match) return Either.left(`not a host[:port[:weight]] server address: ${JSON.stringify(entry)}`)
  return address(
    match[1] ?? match[2]!,
    match[3] === undefined ? DEFAULT_PORT : Number(match[3]),
    match[4] === undefined ? 1 : Number(match[4]),
    entry
  )
}

/** @internal Parses the servers option; a malformed entry is reported as a message, never thrown. */
export const parseServers = (
  servers: string | ReadonlyArray<string | ServerSpec> | undefined
): Either.Either<ReadonlyArray<ServerAddress>, string> => {
  const entries = (typeof servers === "string" ? servers.split(",") : servers ?? ["localhost:11211"])
    .map((entry) => typeof entry === "string" ? entry.trim() : entry)
    .filter((entry) => entry !== "")
  if (entries.length === 0) return Either.left("no memcached server is configured")
  const parsed: Array<ServerAddress> = []
  const seen = new Set<string>()
  for (const entry of entries) {
    const result = typeof entry === "string"
      ? parseEntry(entry)
      : address(entry.host, entry.port ?? DEFAULT_PORT, entry.weight ?? 1, entry)
    if (Either.isLeft(result)) return Either.left(result.left)
    if (seen.has(result.right.label)) return Either.left(`server ${result.right.label} is listed twice`)
    seen.add(result.right.label)
    parsed.push(result.right)
  }
  return Either.right(parsed)
}
