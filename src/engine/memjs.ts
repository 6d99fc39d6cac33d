/**
 * The parts of memjs the engine drives: its `Server` objects (socket, SASL) and its `Client`'s list of them and
 * request ids. Requests are framed and routed by the engine; memjs's own retries, failover and logger are never used.
 *
 * @internal
 */
import * as Memjs from "memjs"
import type * as Net from "node:net"
import type { Wire } from "./connection.js"
import type { FramedServer } from "./framing.js"
import { installFraming, maxBodyLength } from "./framing.js"
import type { ServerAddress } from "./servers.js"

/** @internal The parts of memjs's `Server` that memjs's typings leave out. */
export interface MemjsServer extends Memjs.Server {
  host: string
  port: number
  username: string | undefined
  password: string | undefined
  _socket?: Net.Socket | undefined
  /** Whether `_socket` is connected and authenticated, so that `sock` would hand it over at once. */
  connected: boolean
  /** Our connections' open flights on this server object (see `makeConnection`'s `unrefIdle`). */
  openFlights?: number
  error(error: unknown): void
  close(): void
}

/** @internal The parts of memjs's `Client` we use; `seq` is shared so our requests never collide with its own. */
export interface MemjsClient {
  seq: number
  servers: Array<MemjsServer>
  incrSeq(): void
  getServer(key: string): string | number
}

/** memjs's options for the servers we create: its own timeouts behind ours. */
const memjsServerOptions = (deadlineMillis: number) => ({
  timeout: deadlineMillis / 1000 + 0.5,
  conntimeout: deadlineMillis / 1000 + 0.5,
  keepAlive: true,
  keepAliveDelay: 30
})

const quietLogger = { log: () => {} }

/**
 * @internal A memjs client over `addresses` that logs nothing, never retries and never fails over, with these
 * credentials (SASL off without them). memjs itself would read `MEMCACHE(IER)_USERNAME`/`PASSWORD` from the
 * environment when they are empty: only the ones given here count.
 */
export const makeMemjsClient = (
  addresses: ReadonlyArray<ServerAddress>,
  username: string | undefined,
  password: string | undefined,
  deadlineMillis: number
): MemjsClient => {
  const serverOptions = memjsServerOptions(deadlineMillis)
  const servers = addresses.map((address) => {
    const server = new Memjs.Server(address.host, address.port, username, password, serverOptions) as MemjsServer
    server.username = username
    server.password = password
    return server
  })
  return new Memjs.Client(servers, {
    retries: 1,
    failover: false,
    expires: 0,
    logger: quietLogger
  }) as unknown as MemjsClient
}

/** @internal Allocates the next request id from the memjs client, so ids never collide with memjs's own. */
export const nextOpaque = (client: MemjsClient): number => {
  client.incrSeq()
  if (client.seq <= 0 || client.seq >= 0x7fff_ffff) client.seq = 1
  return client.seq
}

/**
 * @internal Allocates `count` consecutive request ids from the memjs client and returns the first; the range never
 * wraps around.
 */
export const nextOpaques = (client: MemjsClient, count: number): number => {
  let first = client.seq + 1
  if (first <= 0 || first + count > 0x7fff_ffff) first = 1
  client.seq = first + count - 1
  return first
}

/**
 * @internal The binary wire over a memjs client's servers: a failed `Server` is replaced by a fresh one with the same
 * credentials, and each reads its responses with our framing (`framing.ts`).
 */
export const memjsWire = (client: MemjsClient): Wire<MemjsServer> => ({
  servers: client.servers,
  replace: (failed) => {
    const fresh = new Memjs.Server(
      failed.host,
      failed.port,
      failed.username,
      failed.password,
      failed.options
    ) as unknown as MemjsServer
    fresh.username = failed.username
    fresh.password = failed.password
    return fresh
  },
  install: (server, maxItemSize) => installFraming(server as unknown as FramedServer, maxBodyLength(maxItemSize))
})
