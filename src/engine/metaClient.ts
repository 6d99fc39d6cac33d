/**
 * The client of a pool of memcached servers over memcached's meta protocol (`mg`, `ms`, `md`, `ma`, `mn`), with the
 * binary client's routing, connections, deadlines and ejection (`makeRouter`) and its semantics: the same answers to
 * the same operations. Each request carries an opaque (`O`) that its answer must echo, and a read asks for its key
 * back (`k`), which must match; a batch is quiet requests (`q`: only hits and failures answer) ended by `mn`.
 *
 * Keys go on the wire as they are: memcached's text protocol carries any byte but space, CR and LF, and the key rules
 * (`keys.ts`) refuse whitespace and control characters. Base64 (`b`) would add nothing, and it would cut non-ASCII
 * keys to 187 bytes, since memcached checks its 250-byte limit on the encoded key.
 *
 * @internal
 */
import type { EngineClient, PoolEngineOptions } from "./client.js"
import { makeRouter, Write } from "./client.js"
import type { Connection, Interpret } from "./connection.js"
import { IN_ORDER } from "./connection.js"
import { EngineFailure } from "./failure.js"
import type { WriteMode } from "./item.js"
import { CasItem, Item, LeaseAnswer } from "./item.js"
import type { TooLarge } from "./itemSize.js"
import { tooLarge } from "./itemSize.js"
import type { WireKey } from "./keys.js"
import { MetaCode, type MetaResponse } from "./metaResponse.js"
import { authFrame, MetaServer, metaWire } from "./metaServer.js"
import type { TlsSettings } from "./tls.js"
import { recordRuns } from "./tlsRecord.js"
import type { Expiry } from "./ttl.js"
import { toExpirationField } from "./ttl.js"

type MetaConnection = Connection<MetaResponse>

/** A command on one key: `verb key flags\r\n`, and then `value\r\n` when there is one. */
const command = (verb: string, key: Buffer, flags: string, value?: Uint8Array): Buffer => {
  const head = verb.length + 1 + key.length + 1 + flags.length + 2
  const frame = Buffer.allocUnsafe(head + (value === undefined ? 0 : value.length + 2))
  let at = frame.write(verb, 0, "latin1")
  frame[at++] = 0x20
  at += key.copy(frame, at)
  frame[at++] = 0x20
  at += frame.write(flags, at, "latin1")
  frame[at++] = 0x0d
  frame[at++] = 0x0a
  if (value !== undefined) {
    frame.set(value, at)
    at += value.length
    frame[at++] = 0x0d
    frame[at] = 0x0a
  }
  return frame
}

const NO_OP = Buffer.from("mn\r\n", "latin1")
const QUIET_READ = Buffer.from(" v f k q O", "latin1")

/** The number of decimal digits of `n`, a whole number. */
const digitCount = (n: number): number => {
  let count = 1
  while (n >= 10) {
    n = Math.floor(n / 10)
    count++
  }
  return count
}

/** The length of `mg <key> v f k q O<opaque>\r\n`. */
const quietReadLength = (key: Uint8Array, opaque: number): number =>
  3 + key.length + QUIET_READ.length + digitCount(opaque) + 2

/**
 * Quiet reads of `keys[from]` up to `keys[to]` in one buffer: `mg <key> v f k q O<opaque>` for each key, the opaques
 * counting up from `firstOpaque` (the first key's), then `mn` when `ending`. Written byte by byte: a buffer and two
 * string writes per key cost more than the rest of the batch.
 */
const quietRun = (
  keys: ReadonlyArray<Uint8Array>,
  from: number,
  to: number,
  firstOpaque: number,
  ending: boolean
): Buffer => {
  let length = ending ? NO_OP.length : 0
  for (let n = from; n < to; n++) length += quietReadLength(keys[n]!, firstOpaque + n - from)
  const frame = Buffer.allocUnsafe(length)
  let at = 0
  for (let n = from; n < to; n++) {
    frame[at++] = 0x6d // m
    frame[at++] = 0x67 // g
    frame[at++] = 0x20
    frame.set(keys[n]!, at)
    at += keys[n]!.length
    for (let i = 0; i < QUIET_READ.length; i++) frame[at++] = QUIET_READ[i]!
    const opaque = firstOpaque + n - from
    const digits = digitCount(opaque)
    for (let i = digits - 1, rest = opaque; i >= 0; i--, rest = Math.floor(rest / 10)) frame[at + i] = 0x30 + rest % 10
    at += digits
    frame[at++] = 0x0d
    frame[at++] = 0x0a
  }
  if (ending) frame.set(NO_OP, at)
  return frame
}

/**
 * A batch of quiet reads, the opaques counting up from `firstOpaque`, then `mn`: in frames of at most a TLS record
 * (`recordRuns`; one frame for most batches), cut between requests, so that TLS never cuts one between records.
 */
const quietReads = (keys: ReadonlyArray<Uint8Array>, firstOpaque: number): Array<Buffer> => {
  const frames: Array<Buffer> = []
  let from = 0
  for (const end of recordRuns(keys.length, (n) => quietReadLength(keys[n]!, firstOpaque + n), NO_OP.length)) {
    frames.push(quietRun(keys, from, end, firstOpaque + from, end === keys.length))
    from = end
  }
  return frames
}

const FLUSH = Buffer.from("flush_all\r\n", "latin1")
const VERSION = Buffer.from("version\r\n", "latin1")
const STATS = Buffer.from("stats\r\n", "latin1")

/**
 * The latest expiration memcached's text protocol reads (it reads a signed 32-bit number, and a larger one wraps to
 * "already expired"): January 2038, where the binary protocol goes on to 2106.
 */
const MAX_TEXT_EXPIRATION = 0x7fff_ffff

const modes: Record<WriteMode, string> = { set: "MS", add: "ME", replace: "MR" }

/** memcached's own words for a counter on a value that is not a number; the connection stays in step after it. */
const NON_NUMERIC = "non-numeric"

/**
 * The failure of an answer the request did not expect. After `ERROR` or a `CLIENT_ERROR` (but the non-numeric
 * counter's) memcached may read the rest of the request (a value, say) as commands, so the connection is dropped.
 */
const unexpected = (connection: MetaConnection, response: MetaResponse, key?: WireKey): EngineFailure => {
  const code = response.code
  if (code === MetaCode.Error || (code === MetaCode.ClientError && !response.text.includes(NON_NUMERIC))) {
    // a server that refuses us for want of credentials is up: it is not ejected
    connection.reset(`the server refused a command: ${response.describe()}`, !unauthenticated(response))
  }
  return failureOf(connection, response, key)
}

/** memcached with an auth file (`-Y`) answers so every command of a connection that has not authenticated. */
const unauthenticated = (response: MetaResponse) => response.text === "unauthenticated"

const failureOf = (connection: MetaConnection, response: MetaResponse, key?: WireKey): EngineFailure =>
  new EngineFailure(
    unauthenticated(response) ? "Auth" : "Protocol",
    connection.address.label,
    `${response.describe()}${key ? ` (key ${JSON.stringify(key.key)})` : ""}`
  )

/** A response that carries another key than its request's: framing is lost, so the connection is dropped. */
const mismatched = (connection: MetaConnection): EngineFailure => {
  connection.reset("a response carried another key")
  return new EngineFailure("Protocol", connection.address.label, "mismatched response")
}

/** The callback of a request whose answer nobody waits for. */
const ignore = () => {}

/** The answer of a request that succeeds on an existing key and says "not found" (or a miss) otherwise. */
const existed: Interpret<boolean, WireKey, MetaResponse> = (connection, response, key) => {
  switch (response.code) {
    case MetaCode.Done:
      return true
    case MetaCode.Miss:
    case MetaCode.NotFound:
      return false
    default:
      return unexpected(connection, response, key)
  }
}

/**
 * A lease read's answer: with `N`, memcached answers every read with a value; a value marked won (`W`) or claimed
 * (`Z`) but not stale is the placeholder of a miss.
 */
const readLease: Interpret<LeaseAnswer, WireKey, MetaResponse> = (connection, response, key) => {
  if (response.code !== MetaCode.Value) return unexpected(connection, response, key)
  if (!response.hasKey(key.bytes)) return mismatched(connection)
  const placeholder = (response.win || response.claimed) && !response.stale
  return new LeaseAnswer(
    placeholder ? undefined : new Item(response.value, response.flags),
    response.win,
    response.stale
  )
}

const counterValue: Interpret<bigint | undefined, WireKey, MetaResponse> = (connection, response, key) => {
  if (response.code === MetaCode.NotFound) return undefined
  const digits = response.value.toString("latin1")
  if (response.code !== MetaCode.Value || !/^\d+$/.test(digits)) return unexpected(connection, response, key)
  return BigInt(digits)
}

const flushed: Interpret<undefined, undefined, MetaResponse> = (connection, response) =>
  response.code === MetaCode.Ok ? undefined : unexpected(connection, response)

const versionOf: Interpret<string, undefined, MetaResponse> = (connection, response) =>
  response.code === MetaCode.Version ? response.text : unexpected(connection, response)

const statsOf: Interpret<Record<string, string>, undefined, MetaResponse> = (connection, response) =>
  response.stats ?? unexpected(connection, response)

/** Whether memcached refused a value for its size (`SERVER_ERROR object too large for cache`). */
const refusedAsTooLarge = (response: MetaResponse) =>
  response.code === MetaCode.ServerError && response.text.includes("too large")

/**
 * @internal The meta client's options: the pool's, TLS, and the credentials of memcached's text-protocol
 * authentication (an auth file, `-Y`), sent first on every connection when given.
 */
export interface MetaClientOptions extends PoolEngineOptions {
  /** Dial the servers over TLS. */
  readonly tls?: TlsSettings | undefined
  readonly username?: string | undefined
  readonly password?: string | undefined
}

/** @internal The meta client: memcached's meta protocol over sockets of its own (`metaServer.ts`). */
export const makeMetaEngineClient = (options: MetaClientOptions): EngineClient => {
  const { maxItemSize } = options
  let seq = 0
  const opaques = (count: number) => {
    if (seq + count >= 0x7fff_ffff) seq = 0
    const first = seq + 1
    seq += count
    return first
  }
  const { password, username } = options
  const auth = username !== undefined && password !== undefined ? authFrame(username, password) : undefined
  const servers = options.addresses.map((address) => new MetaServer(address.host, address.port, options.tls, auth))
  const { byServer, close, eachServer, pipelined, route } = makeRouter<MetaServer, MetaResponse>(
    options,
    metaWire(servers),
    opaques
  )
  // memcached reads absolute expirations against the wall clock.
  const expiration = (expiry: Expiry) => Math.min(toExpirationField(expiry, Date.now()), MAX_TEXT_EXPIRATION)

  /**
   * Whether a plain read's answer is a lease's (`engine/lease.ts`), which it counts as a miss: the placeholder of a
   * value being computed (`W`, `Z`), or a stale value (`X`). memcached gives the recomputation of a stale value to
   * whichever read comes first (`W`), a plain one too: a plain read hands it back with `md <key> I`, so that a lease
   * read wins it.
   */
  const leased = (response: MetaResponse, key: WireKey): boolean => {
    if (response.win && response.stale) {
      queueMicrotask(() => request("md", key, "I", existed, key, ignore, undefined))
    }
    return response.win || response.claimed || response.stale
  }

  const readItem: Interpret<Item | undefined, WireKey, MetaResponse> = (connection, response, key) => {
    if (response.code === MetaCode.Miss) return undefined
    if (response.code !== MetaCode.Value) return unexpected(connection, response, key)
    if (!response.hasKey(key.bytes)) return mismatched(connection)
    return leased(response, key) ? undefined : new Item(response.value, response.flags)
  }

  const readCasItem: Interpret<CasItem | undefined, WireKey, MetaResponse> = (connection, response, key) => {
    if (response.code === MetaCode.Miss) return undefined
    if (response.code !== MetaCode.Value || response.cas === undefined) return unexpected(connection, response, key)
    if (!response.hasKey(key.bytes)) return mismatched(connection)
    return leased(response, key) ? undefined : new CasItem(response.value, response.flags, response.cas)
  }

  const written: Interpret<boolean | TooLarge, Write, MetaResponse> = (connection, response, write) => {
    switch (response.code) {
      case MetaCode.Done:
        return true
      case MetaCode.NotStored:
      case MetaCode.Exists:
      case MetaCode.NotFound:
        return false
      default:
        return refusedAsTooLarge(response)
          ? tooLarge(maxItemSize, write.key, write.size)
          : unexpected(connection, response, write.key)
    }
  }

  /** One request to the key's server, with flags `flags` and the request's opaque, and a value if given. */
  const request = <A, C, D>(
    verb: string,
    key: WireKey,
    flags: string,
    interpret: Interpret<A, C, MetaResponse>,
    context: C,
    done: (context: D, result: A | EngineFailure, report?: number) => void,
    doneContext: D,
    value?: Uint8Array
  ) => {
    const connection = route(key)
    if (connection instanceof EngineFailure) {
      done(doneContext, connection)
      return undefined
    }
    const opaque = opaques(1)
    const frame = command(verb, key.bytes, flags === "" ? `O${opaque}` : `${flags} O${opaque}`, value)
    connection.send(frame, opaque, interpret, context, done, doneContext)
    return connection.address
  }

  /**
   * What ends a server's batch: `mn`'s `MN`, or a line without an opaque (an error no quiet request could be named
   * in); then the connection is dropped, since the batch's `MN` and any other answers are still to come.
   */
  const batchEnd = <I>(
    tooLargeOf: ((items: ReadonlyArray<I>) => TooLarge) | undefined
  ) =>
  (connection: MetaConnection, response: MetaResponse, items: ReadonlyArray<I>) => {
    if (response.code === MetaCode.NoOp) return undefined
    connection.reset(`a batch ended with ${response.describe()}`)
    return tooLargeOf !== undefined && refusedAsTooLarge(response)
      ? tooLargeOf(items)
      : failureOf(connection, response)
  }
  const endOfBatch = batchEnd(undefined)
  /** The largest entry of a server's share of a batch: if memcached refused one for its size, it refused this one. */
  const largest = (entries: ReadonlyArray<readonly [WireKey, Item]>): TooLarge => {
    let [key, item] = entries[0]!
    for (const [k, i] of entries) {
      if (k.size + i.value.length > key.size + item.value.length) [key, item] = [k, i]
    }
    return tooLarge(maxItemSize, key, item.value.length)
  }
  const endOfWrites = batchEnd(largest)

  /** A request without a key to one server, answered in order. */
  const simple = <V>(frame: Buffer, interpret: Interpret<V, undefined, MetaResponse>) =>
  (
    connection: MetaConnection,
    answer: (index: number, result: V | EngineFailure, report?: number) => void,
    index: number
  ) => connection.send(frame, IN_ORDER, interpret, undefined, answer, index)

  return {
    maxItemSize,
    get: (key, done, context) => request("mg", key, "v f k", readItem, key, done, context),
    getWithCas: (key, done, context) => request("mg", key, "v f c k", readCasItem, key, done, context),
    getAndTouch: (key, expiry, done, context) =>
      request("mg", key, `v f k T${expiration(expiry)}`, readItem, key, done, context),
    getMany: (keys, done, context) => {
      const found = new Array<Item | undefined>(keys.length)
      return pipelined(
        keys.map((_, i) => i),
        (i) => keys[i]!,
        (group, firstOpaque) => quietReads(group.map((i) => keys[i]!.bytes), firstOpaque),
        (connection, i, response) => {
          const item = readItem(connection, response, keys[i]!)
          if (item instanceof EngineFailure) return item
          found[i] = item
          return undefined
        },
        done,
        context,
        () => found,
        endOfBatch
      )
    },
    write: (mode, key, item, expiry, cas, done, context) =>
      request(
        "ms",
        key,
        `${item.value.length} F${item.flags >>> 0} T${expiration(expiry)} ${modes[mode]}${
          cas === undefined ? "" : ` C${cas}`
        }`,
        written,
        new Write(key, item.value.length),
        done,
        context,
        item.value
      ),
    concat: (side, key, value, done, context) =>
      request(
        "ms",
        key,
        `${value.length} ${side === "append" ? "MA" : "MP"}`,
        written,
        new Write(key, value.length),
        done,
        context,
        value
      ),
    writeMany: (entries, expiry, done, context) => {
      const ttl = expiration(expiry)
      return pipelined(
        entries,
        ([key]) => key,
        (group, firstOpaque) => [
          ...group.map(([key, item], n) =>
            command(
              "ms",
              key.bytes,
              `${item.value.length} F${item.flags >>> 0} T${ttl} q O${firstOpaque + n}`,
              item.value
            )
          ),
          NO_OP
        ],
        (connection, [key], response) => unexpected(connection, response, key),
        done,
        context,
        () => undefined,
        endOfWrites
      )
    },
    delete: (key, done, context) => request("md", key, "", existed, key, done, context),
    lease: (key, expiry, done, context) =>
      request("mg", key, `v f k N${expiration(expiry)}`, readLease, key, done, context),
    invalidate: (key, done, context) => request("md", key, "I", existed, key, done, context),
    deleteMany: (keys, done, context) => {
      let missing = 0
      return pipelined(
        keys,
        (key) => key,
        (group, firstOpaque) => [...group.map((key, n) => command("md", key.bytes, `q O${firstOpaque + n}`)), NO_OP],
        (connection, key, response) => {
          if (response.code !== MetaCode.NotFound) return unexpected(connection, response, key)
          missing++
          return undefined
        },
        done,
        context,
        () => keys.length - missing,
        endOfBatch
      )
    },
    touch: (key, expiry, done, context) => request("mg", key, `T${expiration(expiry)}`, existed, key, done, context),
    counter: (direction, key, delta, initial, expiry, done, context) =>
      request(
        "ma",
        key,
        `v D${delta} ${direction === "increment" ? "MI" : "MD"}${
          initial === undefined ? "" : ` N${expiration(expiry)} J${initial}`
        }`,
        counterValue,
        key,
        done,
        context
      ),
    stats: (done, context) => eachServer(simple(STATS, statsOf), byServer, done, context),
    flush: (done, context) => eachServer(simple(FLUSH, flushed), () => undefined, done, context),
    version: (done, context) => eachServer(simple(VERSION, versionOf), byServer, done, context),
    close
  }
}
