/**
 * The parts of memjs the engine drives: its `Server` objects (SASL, and sockets the engine dials for them, plain or
 * TLS) and its `Client`'s list of them and request ids. Requests are framed and routed by the engine; memjs's own
 * retries, failover and logger are never used.
 *
 * @internal
 */
import * as Memjs from "memjs"
import type * as Net from "node:net"
import type { Wire } from "./connection.js"
import { dial } from "./dial.js"
import type { FramedServer } from "./framing.js"
import { installFraming, maxBodyLength } from "./framing.js"
import type { ServerAddress } from "./servers.js"
import type { TlsSettings } from "./tls.js"

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
  /** The server's TLS settings, when the engine dials its sockets over TLS. */
  tls?: TlsSettings | undefined
}

/** The parts of memjs's `Server` that its `sock` uses, which `dialingSock` replaces. */
interface SocketOwner extends MemjsServer {
  connectCallbacks: Array<(socket: Net.Socket) => void>
  timeoutSet: boolean
  options: { conntimeout: number; keepAlive: boolean; keepAliveDelay: number }
  listSasl(): void
  responseHandler(chunk: Buffer, lent?: boolean): void
}

/**
 * memjs's `Server.prototype.sock` (1.3.2), with its socket dialed by the engine (`dial.ts`), plain or TLS, and
 * authenticated with SASL once the socket is ready (after the TLS handshake). Unlike memjs's, a socket that times out
 * connecting is destroyed, not ended (a SYN left unanswered would keep the process alive for minutes), and an old
 * socket's close leaves a newer one alone.
 */
function dialingSock(this: SocketOwner, sasl: boolean, go: (socket: Net.Socket) => void): void {
  const server = this
  const current = server._socket
  if (current === undefined) {
    server.connected = false
    const socket = dial(
      server,
      server.tls,
      () => {
        server.once("authenticated", () => {
          if (server._socket !== socket) return
          server.connected = true
          socket.setTimeout(0)
          server.timeoutSet = false
          go(socket)
          const waiting = server.connectCallbacks
          server.connectCallbacks = []
          for (const callback of waiting) callback(socket)
        })
        if (server.username && server.password) server.listSasl()
        else server.emit("authenticated")
      },
      (cause) => server.error(cause),
      (lent) => server.responseHandler(lent, true)
    )
    server._socket = socket
    socket.on("close", () => {
      if (server._socket !== socket) return
      server.connected = false
      server.timeoutSet = false
      server._socket = undefined
    })
    server.timeoutSet = true
    socket.setTimeout(server.options.conntimeout * 1000, () => {
      server.timeoutSet = false
      if (server.connected || server._socket !== socket) return
      server._socket = undefined
      socket.destroy()
      server.error(new Error("socket timed out connecting to server."))
    })
    socket.setKeepAlive(server.options.keepAlive, server.options.keepAliveDelay * 1000)
  } else if (!server.connected && !sasl) server.connectCallbacks.push(go)
  else go(current)
}

/**
 * @internal A memjs `Server` whose sockets the engine dials (`tls` for TLS), with exactly these credentials: memjs
 * itself would read `MEMCACHE(IER)_USERNAME`/`PASSWORD` from the environment when they are empty.
 */
export const makeServer = (
  host: string,
  port: number,
  username: string | undefined,
  password: string | undefined,
  options: object,
  tls: TlsSettings | undefined
): MemjsServer => {
  const server = new Memjs.Server(host, port, username, password, options) as MemjsServer
  server.username = username
  server.password = password
  server.tls = tls
  ;(server as SocketOwner).sock = dialingSock
  return server
}

/** @internal A fresh server object in place of a failed one: same address, credentials, options and TLS. */
export const renewServer = (failed: MemjsServer): MemjsServer =>
  makeServer(failed.host, failed.port, failed.username, failed.password, failed.options, failed.tls)

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
 * credentials (SASL off without them; only the ones given here count, see `makeServer`), over TLS with `tls`.
 */
export const makeMemjsClient = (
  addresses: ReadonlyArray<ServerAddress>,
  username: string | undefined,
  password: string | undefined,
  deadlineMillis: number,
  tls?: TlsSettings | undefined
): MemjsClient => {
  const serverOptions = memjsServerOptions(deadlineMillis)
  const servers = addresses.map((address) =>
    makeServer(address.host, address.port, username, password, serverOptions, tls)
  )
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
  replace: renewServer,
  install: (server, maxItemSize) => installFraming(server as unknown as FramedServer, maxBodyLength(maxItemSize))
})
