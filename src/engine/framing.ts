/**
 * Response framing for our memjs `Server` objects. memjs copies its whole receive buffer on every chunk (a 500 KiB
 * value arriving in 64 KiB chunks is copied eight times over) and keeps a half-read frame across reconnects. Here a
 * frame that lies within one chunk is read in place (from a chunk that is only lent, the run of whole frames is copied
 * once), a frame spread over several chunks is copied once, chunk by chunk as they arrive, into a buffer of the length
 * its header announces, and bytes left over from a previous socket are dropped.
 *
 * Framing also fails the server at once, rather than leaving its requests to their deadline, when its socket closes
 * (`ConnectionClosed`) or when it sends a frame that cannot be an answer of ours (`ProtocolViolation`): one that does
 * not start with the response magic, one that announces a body larger than any item the layer reads, or one that
 * answers no request in flight (memcached answers a connection's requests in order, so an answer out of order is one
 * of these too).
 *
 * @internal
 */
import type * as Net from "node:net"
import { Response } from "./protocol.js"

/** @internal The parts of memjs's `Server` that framing drives. */
export interface FramedServer {
  _socket?: Net.Socket | undefined
  /** Takes a chunk the socket read; `lent` when its bytes are only valid during the call (see `dial`). */
  responseHandler: (chunk: Buffer, lent?: boolean) => void
  /** Hands on a response; `false` when no request in flight claims it. */
  respond(response: Response): boolean | void
  saslAuth(): void
  error(error: unknown): void
  emit(event: string): boolean
  sock(sasl: boolean, go: (socket: Net.Socket) => void): void
}

/** @internal The server sent something that cannot be an answer to our requests: the connection is dropped. */
export class ProtocolViolation extends Error {}

/** @internal The server's socket closed with requests in flight. */
export class ConnectionClosed extends Error {}

const HEADER = 24
const RESPONSE_MAGIC = 0x81
/** The most extras bytes a header can announce (a one-byte length). */
const MAX_EXTRAS = 0xff

/**
 * @internal The largest body a response may announce when the largest item is `maxItemSize` bytes: an item's key and
 * value fit in it, and the extras come on top.
 */
export const maxBodyLength = (maxItemSize: number): number => maxItemSize + MAX_EXTRAS

/** What framing keeps per server: the largest body it accepts (the largest of its connections' limits). */
interface Framing {
  maxBody: number
}

/** Servers whose `responseHandler` is ours already. */
const framed = new WeakMap<FramedServer, Framing>()

/**
 * @internal Replaces `server.responseHandler` with copy-once framing; SASL frames are handled as memjs does. A server
 * is framed once, however many connections use it, so that a frame half read is never dropped; each connection's
 * `maxBody` raises the limit to its own.
 */
export const installFraming = (server: FramedServer, maxBody: number): void => {
  const installed = framed.get(server)
  if (installed !== undefined) {
    installed.maxBody = Math.max(installed.maxBody, maxBody)
    return
  }
  const framing: Framing = { maxBody }
  framed.set(server, framing)
  let socket: Net.Socket | undefined
  /** A frame (or, until its header is in, a header) spread over several chunks; its first `filled` bytes are in. */
  let partial: Buffer | undefined
  let filled = 0

  /** Hands on the frame that is the bytes `start` up to `end` of `bytes`. */
  const deliver = (bytes: Buffer, start: number, end: number) => {
    const response = new Response(bytes, start, end)
    if (response.header.opcode === 0x20) server.saslAuth()
    else if (response.header.status === 0x20) server.error("Memcached server authentication failed!")
    else if (response.header.opcode === 0x21) server.emit("authenticated")
    else if (server.respond(response) === false) {
      server.error(
        new ProtocolViolation(
          `a response (opaque ${response.opaque}) answered no request in flight, or answered one out of order`
        )
      )
    }
  }

  /** The length of the frame whose header starts at `offset`, if it can be a response of ours. */
  const frameLength = (header: Buffer, offset: number): number | undefined => {
    const body = header.readUInt32BE(offset + 8)
    return header[offset] === RESPONSE_MAGIC && body <= framing.maxBody ? HEADER + body : undefined
  }

  /**
   * The length of the frame whose header starts at `offset`, or `undefined` after failing the server when the header
   * cannot be a response of ours; nothing is allocated for such a frame.
   */
  const checkedLength = (header: Buffer, offset: number): number | undefined => {
    const length = frameLength(header, offset)
    if (length !== undefined) return length
    const body = header.readUInt32BE(offset + 8)
    partial = undefined
    server.error(
      new ProtocolViolation(
        header[offset] === RESPONSE_MAGIC
          ? `a response announced ${body} bytes of body, more than the ${framing.maxBody} allowed`
          : `a response started with byte 0x${header[offset]!.toString(16).padStart(2, "0")}`
      )
    )
    return undefined
  }

  /**
   * The socket memjs opened last for this server: the requests in flight are on it (or wait for it to connect). When
   * it closes, they fail at once; an older socket's close says nothing about them.
   */
  let latest: Net.Socket | undefined
  const sock = server.sock
  server.sock = (sasl, go) => {
    const before = server._socket
    sock.call(server, sasl, go)
    const opened = server._socket
    if (opened === undefined || opened === before) return
    latest = opened
    opened.once("close", () => {
      if (opened !== latest) return
      const midFrame = socket === opened && partial !== undefined
      server.error(
        new ConnectionClosed(
          midFrame ? "the server closed the connection in the middle of a response" : "the server closed the connection"
        )
      )
    })
  }

  /**
   * Where a run of whole frames in `chunk`, whose first frame ends at `end`, ends: before a frame cut by the chunk's
   * end, or one that cannot be a response of ours (`frameLength`).
   */
  const wholeFramesEnd = (chunk: Buffer, end: number): number => {
    while (end + HEADER <= chunk.length) {
      const length = frameLength(chunk, end)
      if (length === undefined || end + length > chunk.length) break
      end += length
    }
    return end
  }

  /**
   * Hands on the whole frames of `owned`, which starts with a frame; `false` when one of them failed the connection
   * (the rest of the chunk is dropped then, as below).
   */
  const deliverAll = (owned: Buffer, from: Net.Socket | undefined): boolean => {
    for (let offset = 0; offset < owned.length;) {
      deliver(owned, offset, offset += HEADER + owned.readUInt32BE(offset + 8))
      if (server._socket !== from) return false
    }
    return true
  }

  server.responseHandler = (chunk: Buffer, lent = false) => {
    if (server._socket !== socket) {
      socket = server._socket
      partial = undefined
    }
    const from = socket
    let offset = 0
    while (offset < chunk.length) {
      if (partial === undefined) {
        const available = chunk.length - offset
        if (available < HEADER) {
          // A header spread over chunks: its buffer is `HEADER` long until the header is in and checked.
          partial = Buffer.allocUnsafe(HEADER)
          filled = 0
        } else {
          const length = checkedLength(chunk, offset)
          if (length === undefined) return
          if (available >= length) {
            if (lent) {
              // Responses outlive the call: the run of whole frames from here is copied, once, and read there.
              const end = wholeFramesEnd(chunk, offset + length)
              const owned = Buffer.allocUnsafe(end - offset)
              chunk.copy(owned, 0, offset, end)
              offset = end
              if (!deliverAll(owned, from)) return
              continue
            }
            deliver(chunk, offset, offset += length)
            // A response can fail the connection (a mismatched key resets it): the rest of the chunk is dropped.
            if (server._socket !== from) return
            continue
          }
          partial = Buffer.allocUnsafe(length)
          filled = 0
        }
      }
      const frame = partial
      const copied = chunk.copy(frame, filled, offset, Math.min(chunk.length, offset + frame.length - filled))
      filled += copied
      offset += copied
      if (filled < frame.length) return
      if (frame.length === HEADER) {
        // A header spread over chunks is in: checked, then the frame's buffer is sized (a body-less frame is whole).
        const length = checkedLength(frame, 0)
        if (length === undefined) return
        if (length > HEADER) {
          partial = Buffer.allocUnsafe(length)
          filled = frame.copy(partial)
          continue
        }
      }
      partial = undefined
      deliver(frame, 0, frame.length)
      if (server._socket !== from) return
    }
  }
}
