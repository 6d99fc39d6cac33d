/**
 * Response framing for our memjs `Server` objects. memjs copies its whole receive buffer on every chunk (a 500 KiB
 * value arriving in 64 KiB chunks is copied eight times over) and keeps a half-read frame across reconnects. Here a
 * frame that lies within one chunk is read in place, a frame spread over several chunks is copied once, chunk by chunk
 * as they arrive, into a buffer of the length its header announces, and bytes left over from a previous socket are
 * dropped.
 *
 * @internal
 */
import { constants } from "node:buffer"
import type * as Net from "node:net"
import { Response } from "./protocol.js"

/** @internal The parts of memjs's `Server` that framing drives. */
export interface FramedServer {
  _socket?: Net.Socket | undefined
  responseHandler: (chunk: Buffer) => void
  respond(response: Response): void
  saslAuth(): void
  error(error: unknown): void
  emit(event: string): boolean
}

const HEADER = 24

const frameLength = (header: Buffer, offset: number) => HEADER + header.readUInt32BE(offset + 8)

/** Servers whose `responseHandler` is ours already. */
const framed = new WeakSet<FramedServer>()

/**
 * @internal Replaces `server.responseHandler` with copy-once framing; SASL frames are handled as memjs does. A server
 * is framed once, however many connections use it, so that a frame half read is never dropped.
 */
export const installFraming = (server: FramedServer): void => {
  if (framed.has(server)) return
  framed.add(server)
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
    else server.respond(response)
  }

  /** Starts a partial frame of `length` bytes, or fails the server when no buffer can hold it. */
  const begin = (length: number): boolean => {
    filled = 0
    if (length <= constants.MAX_LENGTH) {
      partial = Buffer.allocUnsafe(length)
      return true
    }
    partial = undefined
    server.error(`a response announced ${length - HEADER} bytes of body`)
    return false
  }

  server.responseHandler = (chunk: Buffer) => {
    if (server._socket !== socket) {
      socket = server._socket
      partial = undefined
    }
    let offset = 0
    while (offset < chunk.length) {
      if (partial === undefined) {
        const available = chunk.length - offset
        const length = available >= HEADER ? frameLength(chunk, offset) : HEADER
        if (available >= length) {
          deliver(chunk, offset, offset += length)
          continue
        }
        if (!begin(length)) return
      }
      const frame = partial!
      const copied = chunk.copy(frame, filled, offset, Math.min(chunk.length, offset + frame.length - filled))
      filled += copied
      offset += copied
      if (filled < frame.length) return
      if (frame.length === HEADER && frameLength(frame, 0) > HEADER) {
        // Only the header was in: the frame's buffer can now be sized.
        if (!begin(frameLength(frame, 0))) return
        filled = frame.copy(partial!)
      } else {
        partial = undefined
        deliver(frame, 0, frame.length)
      }
    }
  }
}
