/**
 * The meta wire's server objects: one socket per server, opened when a flight needs it, its responses read by a
 * `MetaReader` and handed to the connection (`connection.ts`); a socket that errors or closes fails the server at
 * once, and a failed server object is replaced by a fresh one, as on the binary wire.
 *
 * @internal
 */
import type * as Net from "node:net"
import type { Wire, WireServer } from "./connection.js"
import { IN_ORDER } from "./connection.js"
import { dial } from "./dial.js"
import { ConnectionClosed, ProtocolViolation } from "./framing.js"
import type { MetaResponse } from "./metaResponse.js"
import { MetaReader } from "./metaResponse.js"
import type { TlsSettings } from "./tls.js"

/** @internal One server of the meta wire, and its current socket. */
export class MetaServer implements WireServer {
  _socket: Net.Socket | undefined = undefined
  connected = false
  openFlights?: number
  /** Requests of memjs's own that wait for an answer, as connections look for them: never any here. */
  readonly responseCallbacks: Record<number, unknown> = {}
  /** What waits for the socket to connect. */
  #waiting: Array<(socket: Net.Socket) => void> = []
  readonly #reader = new MetaReader(
    0,
    (response) => {
      const socket = this._socket
      if (this.respond(response) === false) {
        this.error(
          new ProtocolViolation(
            response.opaque === IN_ORDER
              ? `an answer (${response.describe()}) came with no request in flight`
              : `an answer (opaque ${response.opaque}) answered no request in flight, or answered one out of order`
          )
        )
      }
      return this._socket === socket
    },
    (violation) => this.error(violation)
  )

  /** `tls`: its sockets are dialed over TLS. */
  constructor(readonly host: string, readonly port: number, readonly tls: TlsSettings | undefined) {}

  /** Raises the largest value a response may announce to `maxItemSize` bytes. */
  accept(maxItemSize: number): void {
    this.#reader.maxValue = Math.max(this.#reader.maxValue, maxItemSize)
  }

  /**
   * Hands on a response; `false` when no request in flight claims it. The connection that uses this server wraps it
   * (see `connection.ts`): unwrapped, nothing claims anything.
   */
  respond(_response: MetaResponse): boolean {
    return false
  }

  sock(_sasl: boolean, go: (socket: Net.Socket) => void): void {
    if (this._socket !== undefined) {
      if (this.connected) go(this._socket)
      else this.#waiting.push(go)
      return
    }
    // Every socket of the meta wire is dialed here (`dial.ts`): ready once connected, or once the TLS handshake is done.
    const socket = dial(this, this.tls, () => {
      if (this._socket !== socket) return
      this.connected = true
      const waiting = this.#waiting
      this.#waiting = []
      for (const next of waiting) next(socket)
    }, (error) => {
      if (this._socket === socket) this.error(error)
    })
    socket.setNoDelay(true)
    socket.setKeepAlive(true, 30_000)
    this._socket = socket
    this.connected = false
    this.#waiting = [go]
    this.#reader.reset()
    socket.on("data", (chunk: Buffer) => {
      if (this._socket === socket) this.#reader.read(chunk)
    })
    socket.on("close", () => {
      if (this._socket !== socket) return
      this.error(
        new ConnectionClosed(
          this.#reader.midResponse
            ? "the server closed the connection in the middle of a response"
            : "the server closed the connection"
        )
      )
    })
  }

  /** Drops the socket: what waited for it is dropped too (the connection fails its requests). */
  error(_cause: unknown): void {
    const socket = this._socket
    this._socket = undefined
    this.connected = false
    this.#waiting = []
    this.#reader.reset()
    socket?.destroy()
  }

  removeAllListeners(): void {}
}

/** @internal The meta wire over `servers`, one per address, which connections replace when they fail. */
export const metaWire = (servers: Array<MetaServer>): Wire<MetaServer> => ({
  servers,
  replace: (failed) => new MetaServer(failed.host, failed.port, failed.tls),
  install: (server, maxItemSize) => server.accept(maxItemSize)
})
