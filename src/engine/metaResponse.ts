/**
 * memcached's meta protocol, its answers: one response per line (`HD O12`, `EN`, `VA 5 f3 O13 kkey` and its value,
 * `MN`, the error lines) as a `MetaResponse`, read in place from the bytes it came in, and `MetaReader`, which cuts a
 * socket's chunks into responses. A response that cannot be an answer of ours fails the server (`ProtocolViolation`).
 *
 * @internal
 */
import { IN_ORDER } from "./connection.js"
import { ProtocolViolation } from "./framing.js"

/** @internal What a response says, by its first word. */
export const MetaCode = {
  /** `VA`: a value follows. */
  Value: 1,
  /** `HD`: done, with no value. */
  Done: 2,
  /** `EN`: a miss. */
  Miss: 3,
  /** `NF`: not found. */
  NotFound: 4,
  /** `NS`: not stored. */
  NotStored: 5,
  /** `EX`: the CAS token no longer matches. */
  Exists: 6,
  /** `MN`: the end of a batch. */
  NoOp: 7,
  /** `OK`, to `flush_all`. */
  Ok: 8,
  /** `VERSION …`, to `version`. */
  Version: 9,
  /** `STAT …` lines up to `END`, to `stats`. */
  Stats: 10,
  /** `ERROR`: an unknown command. */
  Error: 11,
  /** `CLIENT_ERROR …` */
  ClientError: 12,
  /** `SERVER_ERROR …` */
  ServerError: 13,
  /** `STORED`, to the `set` that authenticates a connection. */
  Stored: 14
} as const

const EMPTY = Buffer.alloc(0)

/**
 * @internal One response. `opaque` is the `O` token it echoed, or `IN_ORDER` when it carries none (`MN`, the error
 * lines, the text commands' answers); `flags` the `f` token, `cas` the `c` token.
 */
export class MetaResponse {
  opaque = IN_ORDER
  flags = 0
  cas: bigint | undefined = undefined
  /** The bytes the `k` token lies in, from `keyStart` up to `keyEnd`; read in place, with no buffer made for it. */
  keyIn: Buffer | undefined = undefined
  keyStart = 0
  keyEnd = 0
  /** A value's bytes (`VA`), its announced `size` first. */
  value: Buffer = EMPTY
  size = 0
  /** The rest of a `VERSION` or error line. */
  text = ""
  stats: Record<string, string> | undefined = undefined
  /** `W`: this request won the right to recompute the item (see `engine/lease.ts`). */
  win = false
  /** `Z`: another request already won it. */
  claimed = false
  /** `X`: the item was invalidated (`md … I`) and is stale. */
  stale = false
  constructor(readonly code: number) {}

  /** Whether the response echoed the key `key` (its `k` token). */
  hasKey(key: Uint8Array): boolean {
    const bytes = this.keyIn
    const start = this.keyStart
    if (bytes === undefined || this.keyEnd - start !== key.length) return false
    for (let i = 0; i < key.length; i++) if (bytes[start + i] !== key[i]) return false
    return true
  }

  /** The response as a phrase, for an error. */
  describe(): string {
    const word = Object.entries(MetaCode).find(([, code]) => code === this.code)?.[0] ?? "?"
    return this.text === "" ? `unexpected answer ${word}` : this.text
  }
}

/** The longest response line accepted: a 250-byte key and every flag fit many times over. */
const MAX_LINE = 4096

const SPACE = 32
const ZERO = 48

/**
 * The number the decimal digits from `start` up to `end` of `bytes` spell, or `-1` if there are none or another byte
 * is among them. Past 2^53 it is approximate, which only ever makes a size or opaque too large to be ours.
 */
const digitsAt = (bytes: Buffer, start: number, end: number): number => {
  if (start >= end) return -1
  let number = 0
  for (let i = start; i < end; i++) {
    const digit = bytes[i]! - ZERO
    if (digit < 0 || digit > 9) return -1
    number = number * 10 + digit
  }
  return number
}

/** The code of a two-letter word whose bytes are `first` and `second`, or `undefined`. */
const twoLetterCode = (first: number, second: number): number | undefined => {
  switch ((first << 8) | second) {
    case 0x5641: // VA
      return MetaCode.Value
    case 0x4844: // HD
      return MetaCode.Done
    case 0x454e: // EN
      return MetaCode.Miss
    case 0x4e46: // NF
      return MetaCode.NotFound
    case 0x4e53: // NS
      return MetaCode.NotStored
    case 0x4558: // EX
      return MetaCode.Exists
    case 0x4d4e: // MN
      return MetaCode.NoOp
    case 0x4f4b: // OK
      return MetaCode.Ok
  }
  return undefined
}

/**
 * @internal Reads one socket's responses: `read` takes each chunk as it comes and hands each whole response to
 * `deliver`, reading a value that lies within one chunk in place and copying one spread over chunks once, into a
 * buffer of the length its line announced. `deliver` returns `false` when the response failed the connection, and
 * reading stops; a response that cannot be an answer of ours goes to `fail`, and reading stops too.
 */
export class MetaReader {
  /** A line begun in an earlier chunk. */
  #carry: Buffer | undefined = undefined
  /** A value spread over chunks, its bytes and trailing CRLF filled up to `#filled`. */
  #pending: MetaResponse | undefined = undefined
  #body: Buffer = EMPTY
  #filled = 0
  /** A `stats` answer's lines so far. */
  #stats: Record<string, string> | undefined = undefined

  constructor(
    /** The largest value a response may announce. */
    public maxValue: number,
    readonly deliver: (response: MetaResponse) => boolean,
    readonly fail: (violation: ProtocolViolation) => void
  ) {}

  /** Whether a response was cut short: some of its bytes came, not all. */
  get midResponse(): boolean {
    return this.#carry !== undefined || this.#pending !== undefined || this.#stats !== undefined
  }

  read(chunk: Buffer): void {
    let bytes = chunk
    let offset = 0
    if (this.#pending !== undefined) {
      const copied = chunk.copy(this.#body, this.#filled)
      this.#filled += copied
      if (this.#filled < this.#body.length) return
      const response = this.#pending
      this.#pending = undefined
      if (!this.#value(response, this.#body, 0)) return
      offset = copied
    }
    if (this.#carry !== undefined) {
      bytes = Buffer.concat([this.#carry, chunk.subarray(offset)])
      offset = 0
      this.#carry = undefined
    }
    while (offset < bytes.length) {
      const newline = bytes.indexOf(10, offset)
      if (newline < 0 || newline - offset > MAX_LINE) {
        if (bytes.length - offset > MAX_LINE) return this.#violation("a response line longer than 4096 bytes")
        this.#carry = Buffer.from(bytes.subarray(offset))
        return
      }
      if (newline === offset || bytes[newline - 1] !== 13) return this.#violation("a response line not ended by CRLF")
      const response = this.#line(bytes, offset, newline - 1)
      offset = newline + 1
      if (response === false) return
      if (response === undefined) continue
      if (response.code !== MetaCode.Value) {
        if (!this.deliver(response)) return
        continue
      }
      const end = offset + response.size + 2
      if (end <= bytes.length) {
        if (!this.#value(response, bytes, offset)) return
        offset = end
        continue
      }
      this.#pending = response
      this.#body = Buffer.allocUnsafe(response.size + 2)
      this.#filled = bytes.copy(this.#body, 0, offset)
      return
    }
  }

  /** Drops what was read of a response: the next chunk comes from a new socket. */
  reset(): void {
    this.#carry = this.#pending = this.#stats = undefined
    this.#body = EMPTY
  }

  /** Hands on a value whose bytes start at `start` of `bytes`, once its trailing CRLF is checked. */
  #value(response: MetaResponse, bytes: Buffer, start: number): boolean {
    const end = start + response.size
    if (bytes[end] !== 13 || bytes[end + 1] !== 10) {
      this.#violation("a value not followed by CRLF")
      return false
    }
    response.value = bytes.subarray(start, end)
    return this.deliver(response)
  }

  #violation(what: string): void {
    this.reset()
    this.fail(new ProtocolViolation(what))
  }

  /**
   * The response of the line from `start` up to `end` (its CR) of `bytes`; `undefined` for a `STAT` line, which
   * belongs to the response its `END` ends; `false` after failing the server. The answers to meta commands (a
   * two-letter code, then tokens) are read from the bytes; the rarer lines as text.
   */
  #line(bytes: Buffer, start: number, end: number): MetaResponse | undefined | false {
    if (this.#stats === undefined && (end - start === 2 || bytes[start + 2] === SPACE)) {
      const code = twoLetterCode(bytes[start]!, bytes[start + 1]!)
      if (code !== undefined) return this.#tokens(new MetaResponse(code), bytes, start + 3, end)
    }
    const line = bytes.toString("latin1", start, end)
    const space = line.indexOf(" ")
    const word = space < 0 ? line : line.slice(0, space)
    const rest = space < 0 ? "" : line.slice(space + 1)
    if (this.#stats !== undefined || word === "STAT" || word === "END") return this.#statLine(word, rest)
    const text = word === "STORED"
      ? MetaCode.Stored
      : word === "VERSION"
      ? MetaCode.Version
      : word === "ERROR"
      ? MetaCode.Error
      : word === "CLIENT_ERROR"
      ? MetaCode.ClientError
      : word === "SERVER_ERROR"
      ? MetaCode.ServerError
      : undefined
    if (text === undefined) {
      this.#violation(`a response line started with ${JSON.stringify(line.slice(0, 24))}`)
      return false
    }
    const response = new MetaResponse(text)
    if (text !== MetaCode.Stored) response.text = text === MetaCode.Error ? "unknown command" : rest
    return response
  }

  #statLine(word: string, rest: string): MetaResponse | undefined | false {
    if (word === "END") {
      const response = new MetaResponse(MetaCode.Stats)
      response.stats = this.#stats ?? {}
      this.#stats = undefined
      return response
    }
    if (word !== "STAT") {
      this.#violation(`a stats answer held the line ${JSON.stringify(`${word} ${rest}`.slice(0, 24))}`)
      return false
    }
    const space = rest.indexOf(" ")
    this.#stats ??= {}
    this.#stats[space < 0 ? rest : rest.slice(0, space)] = space < 0 ? "" : rest.slice(space + 1)
    return undefined
  }

  /**
   * Reads the tokens from `at` up to `end` of `bytes` into `response`: a value's size first (`VA`), then its flags.
   * Each token is one letter and its argument; tokens are separated by one space, and an empty one is skipped.
   */
  #tokens(response: MetaResponse, bytes: Buffer, at: number, end: number): MetaResponse | false {
    let start = at
    if (response.code === MetaCode.Value) {
      const stop = this.#tokenEnd(bytes, start, end)
      const size = digitsAt(bytes, start, stop)
      if (size < 0 || size > this.maxValue) {
        const token = JSON.stringify(bytes.toString("latin1", start, stop))
        this.#violation(`a value announced as ${token} bytes, over the ${this.maxValue} allowed`)
        return false
      }
      response.size = size
      start = stop + 1
    }
    while (start < end) {
      const stop = this.#tokenEnd(bytes, start, end)
      switch (bytes[start]) {
        case 0x4f: { // O
          const opaque = digitsAt(bytes, start + 1, stop)
          if (opaque < 0) {
            const token = JSON.stringify(bytes.toString("latin1", start + 1, stop))
            this.#violation(`an opaque ${token} that is not one of ours`)
            return false
          }
          response.opaque = opaque
          break
        }
        case 0x66: // f
          response.flags = Math.max(digitsAt(bytes, start + 1, stop), 0) >>> 0
          break
        case 0x63: // c
          if (digitsAt(bytes, start + 1, stop) >= 0) response.cas = BigInt(bytes.toString("latin1", start + 1, stop))
          break
        case 0x6b: // k
          response.keyIn = bytes
          response.keyStart = start + 1
          response.keyEnd = stop
          break
        case 0x57: // W
          response.win = true
          break
        case 0x5a: // Z
          response.claimed = true
          break
        case 0x58: // X
          response.stale = true
          break
      }
      start = stop + 1
    }
    return response
  }

  /** Where the token that starts at `start` ends: at the next space, or at `end`. */
  #tokenEnd(bytes: Buffer, start: number, end: number): number {
    let stop = start
    while (stop < end && bytes[stop] !== SPACE) stop++
    return stop
  }
}
