/**
 * Dialing a server: a plain TCP socket, or TLS over it (see `tls.ts`), with its failures said in words. Every socket
 * the engine opens comes from here, whatever speaks over it.
 *
 * @internal
 */
import * as Net from "node:net"
import * as Tls from "node:tls"
import { DialFailure } from "./failure.js"
import { textOf } from "./text.js"
import type { TlsSettings } from "./tls.js"

/** @internal Where to dial. */
export interface DialTarget {
  readonly host: string
  readonly port: number
}

const codeOf = (error: unknown): string | undefined =>
  typeof error === "object" && error !== null && "code" in error ? textOf(error.code) : undefined

/** TLS alerts by which a server rejects the client's certificate (or its lack of one). */
const clientCertificateAlert = /^ERR_SSL_(?:SSLV3|TLSV1|TLSV13)_ALERT_(?:\w*CERTIFICATE\w*|UNKNOWN_CA|ACCESS_DENIED)$/

/** What OpenSSL says when the bytes that came back are not TLS at all. */
const notTls = new Set([
  "ERR_SSL_WRONG_VERSION_NUMBER",
  "ERR_SSL_PACKET_LENGTH_TOO_LONG",
  "ERR_SSL_RECORD_LAYER_FAILURE"
])

/**
 * A TLS socket's failure, said in words: the server's certificate rejected here (Node has set `authorizationError`
 * before it fails the socket), the client's rejected by the server (an alert), a server that does not speak TLS, or
 * a connection that closed in the handshake.
 */
const tlsFailure = (error: unknown, socket: Tls.TLSSocket, ready: boolean): unknown => {
  const code = codeOf(error)
  const message = error instanceof Error ? error.message : textOf(error)
  if (!ready && socket.authorizationError) {
    return new DialFailure("Auth", `TLS: the server's certificate was rejected: ${message} (${code})`, error)
  }
  if (code === "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED") {
    return new DialFailure(
      "Auth",
      `TLS: the server requires a client certificate: give tls.cert and tls.key (${code})`,
      error
    )
  }
  if (code !== undefined && clientCertificateAlert.test(code)) {
    return new DialFailure("Auth", `TLS: the server rejected the client's certificate (${code})`, error)
  }
  if (ready) return error
  if (code !== undefined && notTls.has(code)) {
    return new DialFailure("Protocol", `TLS: the server does not speak TLS on this port (${code})`, error)
  }
  if (code === "ECONNRESET") {
    return new DialFailure(
      "Unavailable",
      `TLS: the server closed the connection during the handshake (${code}); does it speak TLS on this port?`,
      error
    )
  }
  if (code?.startsWith("ERR_SSL_") || code?.startsWith("ERR_TLS_")) {
    return new DialFailure("Protocol", `TLS: the handshake failed (${code})`, error)
  }
  return error
}

/**
 * A plain socket's failure: a reset before the server sent anything is what a TLS-only server (memcached `-Z`) does
 * to a client that does not speak TLS, so the sentence says so.
 */
const plainFailure = (error: unknown, socket: Net.Socket, ready: boolean): unknown => {
  const code = codeOf(error)
  return ready && socket.bytesRead === 0 && (code === "ECONNRESET" || code === "EPIPE")
    ? new DialFailure(
      "Unavailable",
      `the server reset the connection before answering anything (${code}); if it speaks only TLS (memcached -Z), ` +
        `set the tls option`,
      error
    )
    : error
}

/**
 * The buffer every socket the engine dials reads into (Node's `onread`), shared: a socket's read and the callback
 * that takes its bytes run together on this thread, so no two reads overlap. Without it, Node would allocate 64 KiB
 * per read, shrink it to the bytes read and hand them on through the stream's machinery: about 2 µs of CPU per read
 * on the bench's machine, a sixth of a sequential get's.
 */
const readBuffer = Buffer.allocUnsafeSlow(64 * 1024)

/**
 * @internal Opens a socket to `target`: plain TCP, or TLS with `tls`. `onReady` runs once it is connected (TLS: once
 * the handshake is done and the server's certificate accepted, unless `rejectUnauthorized: false`); `onError` gets
 * each of its failures, a TLS or TLS-mismatch one as a `DialFailure`. An option Node refuses when dialing fails the
 * socket (through `onError`) rather than throwing.
 *
 * `onBytes` gets the bytes the socket reads, in place of `data` events (which it does not emit): they are **lent**,
 * valid only until it returns, for the buffer is read into again; what outlives the call must be copied.
 */
export const dial = (
  target: DialTarget,
  tls: TlsSettings | undefined,
  onReady: (socket: Net.Socket) => void,
  onError: (cause: unknown) => void,
  onBytes: (lent: Buffer) => void
): Net.Socket => {
  let ready = false
  let socket: Net.Socket
  const onread: Net.OnReadOpts = {
    buffer: readBuffer,
    callback: (length) => {
      onBytes(readBuffer.subarray(0, length))
      return true // reading goes on
    }
  }
  try {
    socket = tls === undefined
      ? Net.connect({ port: target.port, host: target.host, onread })
      // Node honours `onread` for TLS too (it is in `tls.connect`'s documentation), though @types/node leaves it out.
      : Tls.connect({ ...tls.connect, host: target.host, port: target.port, onread } as Tls.ConnectionOptions)
  } catch (error) {
    socket = new Net.Socket()
    process.nextTick(() => socket.destroy(new DialFailure("Protocol", `cannot dial: ${textOf(error)}`, error)))
  }
  socket.once(tls === undefined ? "connect" : "secureConnect", () => {
    ready = true
    onReady(socket)
  })
  socket.on("error", (error) => {
    onError(
      error instanceof DialFailure
        ? error
        : tls === undefined
        ? plainFailure(error, socket, ready)
        : tlsFailure(error, socket as Tls.TLSSocket, ready)
    )
  })
  return socket
}
