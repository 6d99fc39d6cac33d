/**
 * Response framing for our memjs `Server` objects. memjs copies its whole receive buffer on every chunk (a 500 KiB
 * value arriving in 64 KiB chunks is copied eight times over) and keeps a half-read frame across reconnects. Here
 * chunks are kept in a list and joined once per frame, and bytes left over from a previous socket are dropped.
 *
 * @internal
 */
import type * as Net from "node:net"
import type { Response } from "./protocol.js"

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

const parse = (frame: Buffer): Response => {
  const extrasLength = frame.readUInt8(4)
  const keyLength = frame.readUInt16BE(2)
  const keyStart = HEADER + extrasLength
  const valueStart = keyStart + keyLength
  return {
    header: {
      opcode: frame.readUInt8(1),
      status: frame.readUInt16BE(6),
      totalBodyLength: frame.readUInt32BE(8),
      opaque: frame.readUInt32BE(12),
      cas: frame.subarray(16, HEADER)
    },
    extras: frame.subarray(HEADER, keyStart),
    key: frame.subarray(keyStart, valueStart),
    val: frame.subarray(valueStart)
  }
}

/** @internal Replaces `server.responseHandler` with chunk-list framing; SASL frames are handled as memjs does. */
export const installFraming = (server: FramedServer): void => {
  let chunks: Array<Buffer> = []
  let buffered = 0
  let socket: Net.Socket | undefined

  /** The first `length` buffered bytes as one buffer, joining chunks only when the frame spans several. */
  const take = (length: number, consume: boolean): Buffer => {
    if (chunks[0]!.length < length) chunks = [Buffer.concat(chunks, buffered)]
    const first = chunks[0]!
    if (consume) {
      if (first.length === length) chunks.shift()
      else chunks[0] = first.subarray(length)
      buffered -= length
    }
    return first.subarray(0, length)
  }

  server.responseHandler = (chunk: Buffer) => {
    if (server._socket !== socket) {
      socket = server._socket
      chunks = []
      buffered = 0
    }
    chunks.push(chunk)
    buffered += chunk.length
    while (buffered >= HEADER) {
      const frameLength = HEADER + take(HEADER, false).readUInt32BE(8)
      if (buffered < frameLength) return
      const response = parse(take(frameLength, true))
      if (response.header.opcode === 0x20) server.saslAuth()
      else if (response.header.status === 0x20) server.error("Memcached server authentication failed!")
      else if (response.header.opcode === 0x21) server.emit("authenticated")
      else server.respond(response)
    }
  }
}
