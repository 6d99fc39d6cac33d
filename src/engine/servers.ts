/**
 * Server-list parsing: `"h1:11211,h2:11211:3"` or a list of such strings or `{ host, port, weight }` objects; each
 * `host[:port[:weight]]`, IPv6 as `[::1]:11211`.
 *
 * @internal
 */
import { isIPv6 } from "node:net"
import { textOf } from "./text.js"

/**
 * A server in a pool: `host`, `port` (11211 when left out) and `weight`, its share of the keys relative to the other
 * servers' weights (1 when left out). Public as `ServerSpec` of `Memcached`.
 */
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

/** @internal The servers when none are given. */
export const DEFAULT_SERVERS = `localhost:${DEFAULT_PORT}`

/** An entry as an error shows it; never throws (an object may hold a bigint, which `JSON.stringify` refuses). */
const shown = (entry: unknown): string => {
  try {
    return JSON.stringify(entry) ?? textOf(entry)
  } catch {
    return textOf(entry)
  }
}

/** @internal What is wrong with the servers option, as a sentence. */
export class BadServers {
  constructor(readonly reason: string) {}
}

const credentialsInList = new BadServers("put credentials in the username/password options, not in the server list")

const address = (
  host: unknown,
  port: unknown,
  weight: unknown,
  entry: unknown
): ServerAddress | BadServers => {
  if (typeof host !== "string" || host.length === 0) return new BadServers(`no host in server ${shown(entry)}`)
  if (host.includes("@")) return credentialsInList
  if (host.includes(":") && !isIPv6(host)) {
    return new BadServers(`the host of server ${shown(entry)} has a colon but is not an IPv6 address`)
  }
  if (!(typeof port === "number" && Number.isInteger(port) && port > 0 && port < 65536)) {
    return new BadServers(`bad port in server ${shown(entry)}`)
  }
  if (!(typeof weight === "number" && Number.isInteger(weight) && weight >= 1)) {
    return new BadServers(`the weight of server ${shown(entry)} must be a whole number from 1 up`)
  }
  return { host, port, weight, label: `${host.includes(":") ? `[${host}]` : host}:${port}` }
}

const parseEntry = (entry: string): ServerAddress | BadServers => {
  if (entry.includes("@")) return credentialsInList
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d+)(?::(\d+))?)?$/.exec(entry)
  if (!match) return new BadServers(`not a host[:port[:weight]] server address: ${JSON.stringify(entry)}`)
  if (match[1] !== undefined && !isIPv6(match[1])) {
    return new BadServers(`only an IPv6 address goes in brackets: ${JSON.stringify(entry)}`)
  }
  return address(
    match[1] ?? match[2]!,
    match[3] === undefined ? DEFAULT_PORT : Number(match[3]),
    match[4] === undefined ? 1 : Number(match[4]),
    entry
  )
}

/**
 * @internal Parses the servers option (`servers` is `unknown`: a value forced past the types is reported too); a
 * malformed entry is reported as `BadServers`, never thrown.
 */
export const parseServers = (servers: unknown): ReadonlyArray<ServerAddress> | BadServers => {
  if (!(servers === undefined || typeof servers === "string" || Array.isArray(servers))) {
    return new BadServers(`expected "host:port,host:port" or a list of servers, got ${shown(servers)}`)
  }
  const list: ReadonlyArray<unknown> = typeof servers === "string" ? servers.split(",") : servers ?? [DEFAULT_SERVERS]
  const entries = list
    .map((entry) => typeof entry === "string" ? entry.trim() : entry)
    .filter((entry) => entry !== "")
  if (entries.length === 0) return new BadServers("no memcached server is configured")
  const parsed: Array<ServerAddress> = []
  const seen = new Set<string>()
  for (const entry of entries) {
    if (typeof entry !== "string" && (typeof entry !== "object" || entry === null)) {
      return new BadServers(`${shown(entry)} is not a server: give "host:port" or { host, port, weight }`)
    }
    const spec = entry as Partial<ServerSpec>
    const result = typeof entry === "string"
      ? parseEntry(entry)
      : address(spec.host, spec.port ?? DEFAULT_PORT, spec.weight ?? 1, entry)
    if (result instanceof BadServers) return result
    if (seen.has(result.label)) return new BadServers(`server ${result.label} is listed twice`)
    seen.add(result.label)
    parsed.push(result)
  }
  return parsed
}
