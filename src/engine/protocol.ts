/**
 * memcached's binary protocol: the opcodes and statuses we use, and request framing, large frames in buffers that are
 * recycled once written. Responses are parsed in `framing.ts`.
 *
 * @internal
 */
import { TextItem } from "./item.js"
import type { WireKey } from "./keys.js"
import { recordRuns } from "./tlsRecord.js"

/** @internal */
export const Opcode = {
  Set: 0x01,
  Add: 0x02,
  Replace: 0x03,
  Delete: 0x04,
  Increment: 0x05,
  Decrement: 0x06,
  Flush: 0x08,
  Noop: 0x0a,
  Version: 0x0b,
  GetK: 0x0c,
  GetKQ: 0x0d,
  Append: 0x0e,
  Prepend: 0x0f,
  Stat: 0x10,
  SetQ: 0x11,
  DeleteQ: 0x14,
  Touch: 0x1c,
  GetAndTouchK: 0x23
} as const

/** @internal */
export const Status = {
  Ok: 0x00,
  KeyNotFound: 0x01,
  KeyExists: 0x02,
  ValueTooLarge: 0x03,
  InvalidArguments: 0x04,
  NotStored: 0x05,
  NonNumeric: 0x06,
  AuthError: 0x20
} as const

const statusText: Record<number, string> = {
  0x01: "key not found",
  0x02: "key exists",
  0x03: "value too large",
  0x04: "invalid arguments",
  0x05: "item not stored",
  0x06: "incr/decr on a non-numeric value",
  0x07: "the vbucket belongs to another server",
  0x20: "authentication error",
  0x21: "authentication continue",
  0x81: "unknown command",
  0x82: "out of memory",
  0x83: "not supported",
  0x84: "internal error",
  0x85: "busy",
  0x86: "temporary failure"
}

/** @internal A human description of a response status. */
export const describeStatus = (status: number): string =>
  statusText[status] ?? `status 0x${status.toString(16).padStart(2, "0")}`

/** Keys up to this many bytes are compared in JavaScript (see `Response.hasKey`). */
const SHORT_KEY = 48

/**
 * Whether `key` is short and ASCII (its bytes as many as its text's code units, so each byte is one): it is then
 * written and compared code unit by code unit, with no bytes made for it.
 */
const isShortAscii = (key: WireKey): boolean => key.size === key.text.length && key.size <= SHORT_KEY

/**
 * @internal A response frame, read in place: the bytes `start` up to `end` of `bytes` (a socket chunk, or a buffer the
 * frame was copied into). A field is read from those bytes when it is asked for, so a response costs one object and,
 * for a value, one view. The response is its own `header`, the shape memjs's `respond` reads
 * (`response.header.opaque`).
 */
export class Response {
  constructor(readonly bytes: Buffer, readonly start: number, readonly end: number) {}
  get header(): this {
    return this
  }
  get opcode(): number {
    return this.bytes[this.start + 1]!
  }
  get status(): number {
    return this.bytes.readUInt16BE(this.start + 6)
  }
  get totalBodyLength(): number {
    return this.bytes.readUInt32BE(this.start + 8)
  }
  get opaque(): number {
    return this.bytes.readUInt32BE(this.start + 12)
  }
  get cas(): Buffer {
    return this.bytes.subarray(this.start + 16, this.start + 24)
  }
  get extras(): Buffer {
    return this.bytes.subarray(this.start + 24, this.#keyStart())
  }
  get key(): Buffer {
    const start = this.#keyStart()
    return this.bytes.subarray(start, start + this.#keyLength())
  }
  get val(): Buffer {
    return this.bytes.subarray(this.#valueStart(), this.end)
  }
  /** The item flags: the first four bytes of the extras, or 0 when there are none. */
  get flags(): number {
    return this.bytes[this.start + 4]! >= 4 ? this.bytes.readUInt32BE(this.start + 24) : 0
  }
  /**
   * Whether the response carries the key that is the `length` bytes of `source` from `at` (by default, all of it),
   * compared in place: byte by byte in JavaScript for a short key (a call into `Buffer.compare` cost about 3× as much
   * for a 14-byte key), with `compare` for a longer one.
   */
  hasKey(source: Uint8Array, at = 0, length = source.length): boolean {
    if (this.#keyLength() !== length) return false
    const bytes = this.bytes
    const start = this.#keyStart()
    if (length > SHORT_KEY) return bytes.compare(source, at, at + length, start, start + length) === 0
    for (let i = 0; i < length; i++) if (bytes[start + i] !== source[at + i]) return false
    return true
  }
  /**
   * Whether the response carries `key`. A short ASCII key (`isShortAscii`) is compared with its text, so that its
   * bytes need not be made.
   */
  hasWireKey(key: WireKey): boolean {
    if (this.#keyLength() !== key.size) return false
    if (!isShortAscii(key)) return this.hasKey(key.bytes)
    const text = key.text
    const bytes = this.bytes
    const start = this.#keyStart()
    for (let i = 0; i < text.length; i++) if (bytes[start + i] !== text.charCodeAt(i)) return false
    return true
  }
  #keyStart(): number {
    return this.start + 24 + this.bytes[this.start + 4]!
  }
  #keyLength(): number {
    return this.bytes.readUInt16BE(this.start + 2)
  }
  #valueStart(): number {
    return this.#keyStart() + this.#keyLength()
  }
}

/**
 * Frames of at least this many bytes are built in recycled buffers. Node's own pool serves smaller ones
 * (`Buffer.allocUnsafe` below half of its 8 KiB `Buffer.poolSize`); each larger one would otherwise be fresh memory
 * outside the heap. At 100,000 sets of 10 KiB a second that is 1–2 GB a second, and whenever such buffers were promoted
 * before they died, only full collections freed them: about 35 a second.
 */
const RECYCLED_FRAME = 4 * 1024
/**
 * Recycled buffers are kept while unused up to the most bytes that frames held at once, at least `IDLE_FLOOR` and at
 * most `IDLE_CAP`. A bound below what a workload keeps in flight drops buffers that have lived long enough to be in
 * V8's old generation, only to allocate new ones: 16 sets of 500 KiB in flight hold 16 to 32 frames at once (a
 * flight's frames wait behind a write whose callback has not run yet, though memcached may have answered it), up to
 * 16 MiB, and a fixed 8 MiB bound made each such set cost about twice the CPU, in the mark-compacts that the dropped
 * buffers' external memory set off.
 */
const IDLE_FLOOR = 8 * 1024 * 1024
const IDLE_CAP = 32 * 1024 * 1024
const PAGE = 4096

/** Buffers that large frames hold now, to be handed back by `recycleFrame` once written. */
const lent = new WeakSet<ArrayBufferLike>()
/**
 * The bytes of the buffers in `lent`, and the most they came to. A frame dropped unwritten (its connection failed
 * first) is never handed back and stays counted: that can only raise the idle bound, never past `IDLE_CAP`.
 */
let lentBytes = 0
let peakLentBytes = 0
/** Buffers handed back and not yet reused. */
const idle: Array<ArrayBufferLike> = []
let idleBytes = 0

/**
 * A buffer for a frame of `length` bytes. A large one reuses a buffer that `recycleFrame` handed back when one fits (at
 * most twice the length), so that large values do not each take fresh memory (page faults, and garbage that only a
 * full collection frees).
 */
const allocateFrame = (length: number): Buffer => {
  if (length < RECYCLED_FRAME) return Buffer.allocUnsafe(length)
  let frame: Buffer | undefined
  for (let i = idle.length - 1; i >= 0 && frame === undefined; i--) {
    const slab = idle[i]!
    if (slab.byteLength >= length && slab.byteLength <= 2 * length) {
      idle.splice(i, 1)
      idleBytes -= slab.byteLength
      frame = Buffer.from(slab, 0, length)
    }
  }
  // Whole pages: frames a few bytes apart (keys of different lengths over values of one size) fit each other's buffer.
  frame ??= Buffer.from(Buffer.allocUnsafeSlow(Math.ceil(length / PAGE) * PAGE).buffer, 0, length)
  lent.add(frame.buffer)
  lentBytes += frame.buffer.byteLength
  if (lentBytes > peakLentBytes) peakLentBytes = lentBytes
  return frame
}

/**
 * @internal Joins frames of `size` bytes in all into one, for one write, and hands back the parts' buffers (see
 * `recycleFrame`): nothing may use a part afterwards, except a part not built by `encodeRequest`. A join of at least
 * `RECYCLED_FRAME` bytes is built in a recycled buffer too.
 */
export const joinFrames = (frames: ReadonlyArray<Buffer>, size: number): Buffer => {
  const joined = allocateFrame(size)
  let offset = 0
  for (const frame of frames) {
    joined.set(frame, offset)
    offset += frame.length
    recycleFrame(frame)
  }
  return joined
}

/** @internal Whether `frame` holds a recyclable buffer, which `recycleFrame` takes back once the frame is written. */
export const isRecyclable = (frame: Buffer): boolean => lent.has(frame.buffer)

/**
 * @internal Hands back the buffer of a frame from `encodeRequest` once the socket is done with it; nothing may use
 * the frame afterwards. Handing it back twice does nothing.
 */
export const recycleFrame = (frame: Buffer): void => {
  const slab = frame.buffer
  if (!lent.delete(slab)) return
  lentBytes -= slab.byteLength
  if (idleBytes + slab.byteLength > Math.min(IDLE_CAP, Math.max(IDLE_FLOOR, peakLentBytes))) return
  idle.push(slab)
  idleBytes += slab.byteLength
}

/**
 * Writes the first 16 bytes of a request's header at `offset`: magic, opcode, key length, extras length, data type and
 * vbucket (0), total body length, opaque. The CAS field (bytes 16–23) is the caller's.
 */
const writeHeader = (
  frame: Buffer,
  offset: number,
  opcode: number,
  keyLength: number,
  extrasLength: number,
  bodyLength: number,
  opaque: number
) => {
  frame[offset] = 0x80
  frame[offset + 1] = opcode
  frame[offset + 2] = keyLength >>> 8
  frame[offset + 3] = keyLength & 0xff
  frame[offset + 4] = extrasLength
  frame[offset + 5] = 0
  frame[offset + 6] = 0
  frame[offset + 7] = 0
  frame[offset + 8] = bodyLength >>> 24
  frame[offset + 9] = (bodyLength >>> 16) & 0xff
  frame[offset + 10] = (bodyLength >>> 8) & 0xff
  frame[offset + 11] = bodyLength & 0xff
  frame.writeUInt32BE(opaque, offset + 12)
}

/** Zeroes the CAS field of the header at `offset` (a call into `fill` costs more for 8 bytes); returns its end. */
const zeroCas = (frame: Buffer, offset: number): number => {
  for (let i = offset + 16; i < offset + 24; i++) frame[i] = 0
  return offset + 24
}

/**
 * Writes `key`'s text as UTF-8 at `at`: a short ASCII one (`isShortAscii`) code unit by code unit (a call into `write`
 * checks its arguments first, which costs more); any other with `write`.
 */
const writeKeyText = (frame: Buffer, at: number, key: WireKey): void => {
  const text = key.text
  if (!isShortAscii(key)) return void frame.write(text, at, key.size, "utf8")
  for (let i = 0; i < text.length; i++) frame[at + i] = text.charCodeAt(i)
}

/**
 * @internal Frames one request: 24-byte header, then extras, key and value (a `TextItem`'s text as UTF-8). A
 * `WireKey` is written from its text, as `encodeKeyRequests` writes a batch's, so that its bytes need not be made.
 */
export const encodeRequest = (
  opcode: number,
  opaque: number,
  key?: Uint8Array | WireKey,
  extras?: Uint8Array,
  value?: Uint8Array | TextItem,
  cas?: bigint
): Buffer => {
  const keyLength = key === undefined ? 0 : key instanceof Uint8Array ? key.length : key.size
  const extrasLength = extras?.length ?? 0
  const valueLength = value instanceof TextItem ? value.size : value?.length ?? 0
  const frame = allocateFrame(24 + extrasLength + keyLength + valueLength)
  writeHeader(frame, 0, opcode, keyLength, extrasLength, extrasLength + keyLength + valueLength, opaque)
  if (cas === undefined) zeroCas(frame, 0)
  else frame.writeBigUInt64BE(cas, 16)
  // `set` copies without a Buffer view of each part: no object per part on every request.
  if (extras) frame.set(extras, 24)
  if (key instanceof Uint8Array) frame.set(key, 24 + extrasLength)
  else if (key !== undefined) writeKeyText(frame, 24 + extrasLength, key)
  if (value instanceof TextItem) frame.write(value.text, 24 + extrasLength + keyLength, valueLength, "utf8")
  else if (value) frame.set(value, 24 + extrasLength + keyLength)
  return frame
}

/** The last extras `writeExtras` made: most writes in a row share their flags and expiration. */
let lastExtras: Buffer | undefined
let lastFlags = 0
let lastExpiration = 0

/**
 * @internal Extras of set/add/replace: flags, then expiration. The same flags and expiration as the last call give
 * the same buffer: extras are only ever copied into a frame, never written to.
 */
export const writeExtras = (flags: number, expiration: number): Buffer => {
  if (lastExtras !== undefined && flags === lastFlags && expiration === lastExpiration) return lastExtras
  const extras = Buffer.allocUnsafe(8)
  extras.writeUInt32BE(flags >>> 0, 0)
  extras.writeUInt32BE(expiration, 4)
  lastFlags = flags
  lastExpiration = expiration
  return lastExtras = extras
}

/** @internal Extras of touch and get-and-touch: the expiration. */
export const expirationExtras = (expiration: number): Buffer => {
  const extras = Buffer.allocUnsafe(4)
  extras.writeUInt32BE(expiration, 0)
  return extras
}

/** @internal Expiration value in incr/decr extras that tells memcached not to create a missing key. */
export const DO_NOT_CREATE = 0xffff_ffff

/** @internal Extras of increment/decrement: delta, initial value (both 64-bit) and expiration. */
export const counterExtras = (delta: bigint, initial: bigint, expiration: number): Buffer => {
  const extras = Buffer.allocUnsafe(20)
  extras.writeBigUInt64BE(delta, 0)
  extras.writeBigUInt64BE(initial, 8)
  extras.writeUInt32BE(expiration, 16)
  return extras
}

/**
 * @internal Frames a quiet batch in one buffer: one request per key with neither extras nor value (`GetKQ`,
 * `DeleteQ`), with the opaques `firstOpaque`, `firstOpaque + 1`, …, then the no-op that ends the batch (opaque
 * `firstOpaque + keys.length`). With `starts`, `starts[i]` is where the `i`th key's bytes lie in the frame.
 *
 * The keys' text is written in one call, at the end of the frame, then each key is moved to its place, in order (each
 * lands before where it was read from, so nothing is overwritten before it is read): a write per key, or a buffer per
 * key (`WireKey.bytes`), cost several times as much for short keys.
 */
export const encodeKeyRequests = (
  opcode: number,
  firstOpaque: number,
  keys: ReadonlyArray<WireKey>,
  starts?: Array<number>,
  ending = true
): Buffer => {
  const headers = 24 * (keys.length + (ending ? 1 : 0))
  let text = ""
  let size = headers
  for (let i = 0; i < keys.length; i++) {
    text += keys[i]!.text
    size += keys[i]!.size
  }
  const frame = Buffer.allocUnsafe(size)
  frame.write(text, headers, "utf8")
  let from = headers
  let offset = 0
  for (let i = 0; i < keys.length; i++) {
    const length = keys[i]!.size
    writeHeader(frame, offset, opcode, length, 0, length, firstOpaque + i)
    offset = zeroCas(frame, offset)
    if (starts) starts[i] = offset
    if (length > SHORT_KEY) frame.copyWithin(offset, from, from + length)
    else for (let j = 0; j < length; j++) frame[offset + j] = frame[from + j]!
    offset += length
    from += length
  }
  if (!ending) return frame
  writeHeader(frame, offset, Opcode.Noop, 0, 0, 0, firstOpaque + keys.length)
  zeroCas(frame, offset)
  return frame
}

/**
 * @internal A quiet batch as `encodeKeyRequests` frames it, in frames of at most a TLS record (`TLS_RECORD`; one frame
 * for most batches): the same bytes, cut between requests. With `starts` and `frameOf`, the `i`th key's bytes lie at
 * `starts[i]` in `frameOf[i]`.
 */
export const encodeKeyBatch = (
  opcode: number,
  firstOpaque: number,
  keys: ReadonlyArray<WireKey>,
  starts?: Array<number>,
  frameOf?: Array<Buffer>
): Array<Buffer> => {
  const frames: Array<Buffer> = []
  let from = 0
  for (const end of recordRuns(keys.length, (i) => 24 + keys[i]!.size, 24)) {
    const ending = end === keys.length
    // Most batches fit one frame: their keys and positions are used as they are.
    const whole = from === 0 && ending
    const positions = starts === undefined || whole ? starts : new Array<number>(end - from)
    const frame = encodeKeyRequests(opcode, firstOpaque + from, whole ? keys : keys.slice(from, end), positions, ending)
    for (let n = from; n < end; n++) {
      if (positions !== starts) starts![n] = positions![n - from]!
      if (frameOf !== undefined) frameOf[n] = frame
    }
    frames.push(frame)
    from = end
  }
  return frames
}
