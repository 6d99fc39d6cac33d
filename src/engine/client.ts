/**
 * The client of a pool of memcached servers, over memjs's sockets (`connection.ts`): each key's request goes to its
 * server (`placement.ts`; an ejected server's keys fail fast or, with `failover`, go to the next live server), a batch
 * goes out as one pipelined write of quiet requests per server, and requests are framed here so that flags,
 * get-and-touch, 64-bit counters and quiet batches all work.
 *
 * Every operation answers once through a `Done` callback with the caller's context (see `failure.ts`); an operation on
 * one key returns the server it sent the request to, or `undefined` when it sent nothing (the server is ejected).
 *
 * @internal
 */
import type { Connection, Interpret, Wire, WireServer } from "./connection.js"
import { makeConnection } from "./connection.js"
import type { EjectionOptions } from "./ejection.js"
import { makeHealth } from "./ejection.js"
import type { Done } from "./failure.js"
import { EngineFailure } from "./failure.js"
import type { LeaseAnswer, WriteMode } from "./item.js"
import { CasItem, Item, sizeOf, TextItem } from "./item.js"
import { TooLarge, tooLarge } from "./itemSize.js"
import type { WireKey } from "./keys.js"
import type { MemjsClient, MemjsServer } from "./memjs.js"
import { memjsWire, nextOpaque, nextOpaques } from "./memjs.js"
import type { Placement } from "./placement.js"
import type { Response } from "./protocol.js"
import {
  counterExtras,
  describeStatus,
  DO_NOT_CREATE,
  encodeKeyBatch,
  encodeRequest,
  expirationExtras,
  Opcode,
  Status,
  writeExtras
} from "./protocol.js"
import type { ServerAddress } from "./servers.js"
import type { Expiry } from "./ttl.js"
import { toExpirationField } from "./ttl.js"

/** @internal How a pool is run, whatever its wire: servers, deadlines, placement, ejection and failover. */
export interface PoolEngineOptions {
  readonly addresses: ReadonlyArray<ServerAddress>
  /** Each request's deadline, connecting included. */
  readonly deadlineMillis: number
  readonly maxItemSize: number
  readonly placement: Placement
  readonly ejection: EjectionOptions
  /** Send a key whose server is ejected to the next live server on the ring, instead of failing. */
  readonly failover: boolean
  /** Let idle sockets not hold the process: for a client the caller owns here, never for one brought from outside. */
  readonly unrefIdle: boolean
}

/** @internal The binary client's options: the pool's, over a memjs client's servers. */
export interface EngineClientOptions extends PoolEngineOptions {
  readonly client: MemjsClient
}

/**
 * @internal memcached's operations on checked keys (`keys.ts`) and expiries (`ttl.ts`). A failure is an
 * `EngineFailure`; a value the server finds too large is a `TooLarge`.
 */
export interface EngineClient {
  /** The largest item the servers accept, key and overhead included. */
  readonly maxItemSize: number
  /** The key's item, or `undefined` for a miss. */
  readonly get: <D>(key: WireKey, done: Done<Item | undefined, D>, context: D) => ServerAddress | undefined
  /** The key's item with its CAS token, or `undefined` for a miss. */
  readonly getWithCas: <D>(key: WireKey, done: Done<CasItem | undefined, D>, context: D) => ServerAddress | undefined
  /** The key's item, or `undefined` for a miss, and a new expiry for it. */
  readonly getAndTouch: <D>(
    key: WireKey,
    expiry: Expiry,
    done: Done<Item | undefined, D>,
    context: D
  ) => ServerAddress | undefined
  /** Each key's item, or `undefined` for a miss, in the order of `keys`. */
  readonly getMany: <D>(
    keys: ReadonlyArray<WireKey>,
    done: Done<Array<Item | undefined>, D>,
    context: D
  ) => ServerAddress | undefined
  /** `false` when `add` found the key, `replace` did not, or `cas` no longer matches the item. */
  readonly write: <D>(
    mode: WriteMode,
    key: WireKey,
    item: Item,
    expiry: Expiry,
    cas: bigint | undefined,
    done: Done<boolean | TooLarge, D>,
    context: D
  ) => ServerAddress | undefined
  /** Adds bytes after (`append`) or before (`prepend`) an existing value; `false` if the key is missing. */
  readonly concat: <D>(
    side: "append" | "prepend",
    key: WireKey,
    value: Uint8Array,
    done: Done<boolean | TooLarge, D>,
    context: D
  ) => ServerAddress | undefined
  /** Sets many items, one quiet pipelined write per server. */
  readonly writeMany: <D>(
    entries: ReadonlyArray<readonly [WireKey, Item]>,
    expiry: Expiry,
    done: Done<undefined | TooLarge, D>,
    context: D
  ) => ServerAddress | undefined
  /** `false` when the key did not exist. */
  readonly delete: <D>(key: WireKey, done: Done<boolean, D>, context: D) => ServerAddress | undefined
  /** How many of the keys existed. */
  readonly deleteMany: <D>(keys: ReadonlyArray<WireKey>, done: Done<number, D>, context: D) => ServerAddress | undefined
  /** `false` when the key did not exist. */
  readonly touch: <D>(key: WireKey, expiry: Expiry, done: Done<boolean, D>, context: D) => ServerAddress | undefined
  /** The counter's new value; `undefined`: the key is missing and `initial` was not given. */
  readonly counter: <D>(
    direction: "increment" | "decrement",
    key: WireKey,
    delta: bigint,
    initial: bigint | undefined,
    expiry: Expiry,
    done: Done<bigint | undefined, D>,
    context: D
  ) => ServerAddress | undefined
  /** Each server's statistics, by `host:port`. */
  readonly stats: <D>(
    done: Done<ReadonlyMap<string, Readonly<Record<string, string>>>, D>,
    context: D
  ) => ServerAddress | undefined
  /** Drops every item on every server. */
  readonly flush: <D>(done: Done<undefined, D>, context: D) => ServerAddress | undefined
  /** Each server's version, by `host:port`. */
  readonly version: <D>(done: Done<ReadonlyMap<string, string>, D>, context: D) => ServerAddress | undefined
  /**
   * Meta only: reads the key for a lease, creating a placeholder that lives for `expiry` on a miss (see
   * `LeaseAnswer`). A dialect without it leases with a key of its own (`leaseKeyOf`).
   */
  readonly lease?: <D>(
    key: WireKey,
    expiry: Expiry,
    done: Done<LeaseAnswer, D>,
    context: D
  ) => ServerAddress | undefined
  /**
   * Meta only: marks the item stale (`md <key> I`) instead of deleting it, and hands its recomputation to the next
   * read; it expires when it would have. `false` when the key did not exist.
   */
  readonly invalidate?: <D>(key: WireKey, done: Done<boolean, D>, context: D) => ServerAddress | undefined
  /**
   * Refuses new requests (they fail as `Unavailable`, `closed`), lets in-flight ones settle for up to `graceMillis`,
   * then, if `destroy`, fails what is left and closes the sockets.
   */
  readonly close: (graceMillis: number, destroy: boolean) => Promise<void>
}

const writeOpcodes: Record<WriteMode, number> = { set: Opcode.Set, add: Opcode.Add, replace: Opcode.Replace }

/** The failure of a status the request did not expect; invalid arguments also mean the server closed the connection. */
const unexpected = (connection: Connection, response: Response, key?: WireKey): EngineFailure => {
  const status = response.status
  if (status === Status.InvalidArguments) connection.reset("the server closed the connection after invalid arguments")
  return new EngineFailure(
    status === Status.AuthError ? "Auth" : "Protocol",
    connection.address.label,
    `${describeStatus(status)}${key ? ` (key ${JSON.stringify(key.key)})` : ""}`
  )
}

/** A response that carries another key than its request's: framing is lost, so the connection is dropped. */
const mismatched = (connection: Connection): EngineFailure => {
  connection.reset("a response carried another key")
  return new EngineFailure("Protocol", connection.address.label, "mismatched response")
}

/**
 * The answer of a request on one key: `ok(…)` when memcached answers `Ok`, `missing` when it says "not found", a
 * failure for any other status.
 */
const onKey = <A, B>(
  connection: Connection,
  response: Response,
  key: WireKey,
  ok: Interpret<A, WireKey>,
  missing: B
): A | B | EngineFailure => {
  switch (response.status) {
    case Status.Ok:
      return ok(connection, response, key)
    case Status.KeyNotFound:
      return missing
    default:
      return unexpected(connection, response, key)
  }
}

const itemOf = (connection: Connection, response: Response, key: WireKey): Item | EngineFailure =>
  response.hasWireKey(key) ? new Item(response.val, response.flags) : mismatched(connection)

const casItemOf = (connection: Connection, response: Response, key: WireKey): CasItem | EngineFailure =>
  response.hasWireKey(key)
    ? new CasItem(response.val, response.flags, response.cas.readBigUInt64BE(0))
    : mismatched(connection)

const yes = () => true

const counterOf = (_: Connection, response: Response) => response.val.readBigUInt64BE(0)

const readItem: Interpret<Item | undefined, WireKey> = (connection, response, key) =>
  onKey(connection, response, key, itemOf, undefined)

const readCasItem: Interpret<CasItem | undefined, WireKey> = (connection, response, key) =>
  onKey(connection, response, key, casItemOf, undefined)

/** The answer of a request that succeeds on an existing key and says "not found" otherwise. */
const existed: Interpret<boolean, WireKey> = (connection, response, key) => onKey(connection, response, key, yes, false)

const counterValue: Interpret<bigint | undefined, WireKey> = (connection, response, key) =>
  onKey(connection, response, key, counterOf, undefined)

/** @internal A write's key and value size, for its answer (`written`). */
export class Write {
  constructor(readonly key: WireKey, readonly size: number) {}
}

const flushed = (connection: Connection, response: Response): undefined | EngineFailure =>
  response.status === Status.Ok ? undefined : unexpected(connection, response)

const versionOf = (connection: Connection, response: Response): string | EngineFailure =>
  response.status === Status.Ok ? response.val.toString("utf8") : unexpected(connection, response)

/**
 * An operation made of parts (a batch per server, a request per server): it settles once, with the first part that
 * fails, or with `result()` when every part is done.
 */
class Gather<A, D> {
  settled = false
  constructor(
    public remaining: number,
    readonly done: Done<A, D>,
    readonly context: D,
    readonly result: () => A
  ) {}

  /** One part is done: `failure` is what it failed with, if it did. */
  part(failure: EngineFailure | TooLarge | undefined, report?: number): void {
    if (this.settled) return
    if (failure !== undefined || --this.remaining === 0) {
      this.settled = true
      this.done(this.context, failure === undefined ? this.result() : failure as A | EngineFailure, report)
    }
  }
}

/** The part of a gather that a batch is: its own failure, or the first of its quiet answers' (`QuietGroup.failure`). */
const batchDone = (group: QuietGroup<any>, result: undefined | EngineFailure, report?: number) =>
  group.gather.part(result ?? group.failure, report)

/** One server's share of a batch, while its answers come. */
class QuietGroup<I> {
  failure: EngineFailure | TooLarge | undefined = undefined
  constructor(readonly gather: Gather<any, any>, readonly items: ReadonlyArray<I>) {}
}

/**
 * @internal The half of a client that no dialect changes: its connections (over `wire`'s server objects), each key's
 * server, a batch's requests grouped by server, and requests to every server.
 */
export interface Router<R> {
  /**
   * The key's server, or its ring successor when it is ejected and `failover` is on. This only looks at the servers'
   * health: an ejected server's trial is taken by the request the connection sends (see `Health`).
   */
  readonly route: (key: WireKey, at?: number) => Connection<R> | EngineFailure
  /**
   * Quiet requests to each item's server, one write per server: `encode` frames a server's items, with the opaques
   * `firstOpaque`, `firstOpaque + 1`, …, and the final no-op (opaque `firstOpaque + items.length`); `onQuiet` says
   * what failure an answer of a quiet request is, if it is one, and `finish` what the response that ends a server's
   * batch means (see `Connection.batch`). `done` gets `result()` once every server answered. Returns the server,
   * when every item went to one.
   */
  readonly pipelined: <I, A, D>(
    items: ReadonlyArray<I>,
    keyOf: (item: I) => WireKey,
    encode: (items: ReadonlyArray<I>, firstOpaque: number) => ReadonlyArray<Buffer>,
    onQuiet: (connection: Connection<R>, item: I, response: R) => EngineFailure | TooLarge | undefined,
    done: Done<A, D>,
    context: D,
    result: () => A,
    finish?: (connection: Connection<R>, response: R, items: ReadonlyArray<I>) => undefined | EngineFailure | TooLarge
  ) => ServerAddress | undefined
  /**
   * One request to every server (`ask`), which answers with that server's value; `done` gets `result(values)`.
   * Returns the server, when there is one.
   */
  readonly eachServer: <V, A, D>(
    ask: (connection: Connection<R>, answer: Done<V, number>, index: number) => void,
    result: (values: ReadonlyArray<V>) => A,
    done: Done<A, D>,
    context: D
  ) => ServerAddress | undefined
  /** The servers' values (one per connection, in order) by `host:port`. */
  readonly byServer: <V>(values: ReadonlyArray<V>) => ReadonlyMap<string, V>
  /** Closes every connection (see `EngineClient.close`). */
  readonly close: (graceMillis: number, destroy: boolean) => Promise<void>
}

/**
 * @internal The router of a pool over `wire`'s server objects; `opaques(count)` allocates `count` consecutive request
 * ids and returns the first.
 */
export const makeRouter = <S extends WireServer, R extends { readonly opaque: number }>(
  options: PoolEngineOptions,
  wire: Wire<S>,
  opaques: (count: number) => number
): Router<R> => {
  const { addresses, deadlineMillis, maxItemSize, placement } = options
  const connections = addresses.map((address, index) =>
    makeConnection<S, R>(
      wire,
      index,
      address,
      deadlineMillis,
      maxItemSize,
      makeHealth(options.ejection),
      options.unrefIdle
    )
  )

  const route = (key: WireKey, at = Date.now()): Connection<R> | EngineFailure => {
    const home = connections[connections.length === 1 ? 0 : placement.locate(key.text)] ?? connections[0]!
    if (home.health.available(at)) return home
    if (!options.failover) return home.ejected(at)
    const next = placement.locateAlive(key.text, (index) => connections[index]!.health.available(at))
    return next >= 0 ? connections[next]! : home.ejected(at)
  }

  /** The items by server, in their order; a key that has no server fails the whole batch. */
  const groupByConnection = <I>(
    items: ReadonlyArray<I>,
    keyOf: (item: I) => WireKey
  ): ReadonlyArray<readonly [Connection<R>, ReadonlyArray<I>]> | EngineFailure => {
    const at = Date.now()
    // A pool of one: every key has its one server, or none.
    if (connections.length === 1 && items.length > 0) {
      const connection = route(keyOf(items[0]!), at)
      return connection instanceof EngineFailure ? connection : [[connection, items]]
    }
    const groups: Array<readonly [Connection<R>, Array<I>]> = []
    for (const item of items) {
      const connection = route(keyOf(item), at)
      if (connection instanceof EngineFailure) return connection
      let g = 0
      while (g < groups.length && groups[g]![0] !== connection) g++
      if (g === groups.length) groups.push([connection, []])
      groups[g]![1].push(item)
    }
    return groups
  }

  const pipelined: Router<R>["pipelined"] = (items, keyOf, encode, onQuiet, done, context, result, finish) => {
    const groups = groupByConnection(items, keyOf)
    if (groups instanceof EngineFailure) return void done(context, groups)
    if (groups.length === 0) return void done(context, result())
    const gather = new Gather(groups.length, done, context, result)
    for (const [connection, group] of groups) {
      if (gather.settled) break
      const quiet = new QuietGroup(gather, group)
      const firstOpaque = opaques(group.length + 1)
      connection.batch(
        encode(group, firstOpaque),
        firstOpaque,
        group.length,
        (i, response) => {
          quiet.failure ??= onQuiet(connection, quiet.items[i]!, response)
        },
        batchDone,
        quiet,
        finish && ((connection, response) => {
          const failure = finish(connection, response, group)
          if (failure instanceof TooLarge) {
            quiet.failure ??= failure
            return undefined
          }
          return failure
        })
      )
    }
    return groups.length === 1 ? groups[0]![0].address : undefined
  }

  const eachServer: Router<R>["eachServer"] = (ask, result, done, context) => {
    const values = new Array(connections.length)
    const gather = new Gather(connections.length, done, context, () => result(values))
    const answer = (index: number, value: unknown, report?: number) => {
      if (value instanceof EngineFailure) return gather.part(value, report)
      values[index] = value
      gather.part(undefined)
    }
    for (let i = 0; i < connections.length && !gather.settled; i++) ask(connections[i]!, answer, i)
    return connections.length === 1 ? connections[0]!.address : undefined
  }

  const byServer = <V>(values: ReadonlyArray<V>): ReadonlyMap<string, V> =>
    new Map(values.map((value, i) => [connections[i]!.address.label, value] as const))

  const close = async (graceMillis: number, destroy: boolean) => {
    await Promise.all(connections.map((connection) => connection.close(graceMillis, destroy)))
  }
  return { route, pipelined, eachServer, byServer, close }
}

/** @internal The binary client: memcached's binary protocol over memjs's servers. */
export const makeEngineClient = (options: EngineClientOptions): EngineClient => {
  const { client, maxItemSize } = options
  const { byServer, close, eachServer, pipelined, route } = makeRouter<MemjsServer, Response>(
    options,
    memjsWire(client),
    (count) => nextOpaques(client, count)
  )
  // memcached reads absolute expirations against the wall clock.
  const expiration = (expiry: Expiry) => toExpirationField(expiry, Date.now())

  /** The answer of a write: `false` when memcached did not store it (exists, missing, or a stale CAS token). */
  const written = (connection: Connection, response: Response, write: Write): boolean | TooLarge | EngineFailure => {
    switch (response.status) {
      case Status.Ok:
        return true
      case Status.KeyExists:
      case Status.KeyNotFound:
      case Status.NotStored:
        return false
      case Status.ValueTooLarge:
        return tooLarge(maxItemSize, write.key, write.size)
      default:
        return unexpected(connection, response, write.key)
    }
  }

  /** One request to the key's server; `interpret` with `context` turns its response into the answer. */
  const request = <A, C, D>(
    key: WireKey,
    opcode: number,
    interpret: Interpret<A, C>,
    context: C,
    done: Done<A, D>,
    doneContext: D,
    extras?: Uint8Array,
    value?: Uint8Array | TextItem,
    cas?: bigint
  ): ServerAddress | undefined => {
    const connection = route(key)
    if (connection instanceof EngineFailure) {
      done(doneContext, connection)
      return undefined
    }
    const opaque = nextOpaque(client)
    const frame = encodeRequest(opcode, opaque, key, extras, value, cas)
    connection.send(frame, opaque, interpret, context, done, doneContext)
    return connection.address
  }

  /** A request without a key to one server. */
  const simple =
    <V>(opcode: number, interpret: Interpret<V, undefined>) =>
    (connection: Connection, answer: Done<V, number>, index: number) => {
      const opaque = nextOpaque(client)
      connection.send(encodeRequest(opcode, opaque), opaque, interpret, undefined, answer, index)
    }
  const askFlush = simple(Opcode.Flush, flushed)
  const askVersion = simple(Opcode.Version, versionOf)
  const askStats = (connection: Connection, answer: Done<Record<string, string>, number>, index: number) => {
    const opaque = nextOpaques(client, 2)
    const stats: Record<string, string> = {}
    const frames = [encodeRequest(Opcode.Stat, opaque), encodeRequest(Opcode.Noop, opaque + 1)]
    connection.batch(
      frames,
      opaque,
      1,
      (_, response) => {
        if (response.key.length > 0) stats[response.key.toString("utf8")] = response.val.toString("utf8")
      },
      (i, result, report) => answer(i, result ?? stats, report),
      index
    )
  }
  return {
    maxItemSize,
    get: (key, done, context) => request(key, Opcode.GetK, readItem, key, done, context),
    getWithCas: (key, done, context) => request(key, Opcode.GetK, readCasItem, key, done, context),
    getAndTouch: (key, expiry, done, context) =>
      request(key, Opcode.GetAndTouchK, readItem, key, done, context, expirationExtras(expiration(expiry))),
    getMany: (keys, done, context) => {
      const found = new Array<Item | undefined>(keys.length)
      // Each key's request frame, and where its bytes lie in it: an answer's key is checked against them.
      const frames = new Array<Buffer>(keys.length)
      const starts = new Array<number>(keys.length)
      // The items are the keys' indices, so that each hit lands at its key's place, whatever its server.
      return pipelined(
        keys.map((_, i) => i),
        (i) => keys[i]!,
        (group, firstOpaque) => {
          // A server's group of every key (a pool of one, say) is the keys in order: its positions are their indices.
          const whole = group.length === keys.length
          const positions = whole ? starts : new Array<number>(group.length)
          const pieces = whole ? frames : new Array<Buffer>(group.length)
          const batch = encodeKeyBatch(
            Opcode.GetKQ,
            firstOpaque,
            whole ? keys : group.map((i) => keys[i]!),
            positions,
            pieces
          )
          if (!whole) {
            for (let n = 0; n < group.length; n++) {
              frames[group[n]!] = pieces[n]!
              starts[group[n]!] = positions[n]!
            }
          }
          return batch
        },
        (connection, i, response) => {
          const key = keys[i]!
          if (response.status === Status.KeyNotFound) return undefined
          if (response.status !== Status.Ok) return unexpected(connection, response, key)
          if (!response.hasKey(frames[i]!, starts[i]!, key.size)) return mismatched(connection)
          found[i] = new Item(response.val, response.flags)
          return undefined
        },
        done,
        context,
        () => found
      )
    },
    write: (mode, key, item, expiry, cas, done, context) =>
      request(
        key,
        writeOpcodes[mode],
        written,
        new Write(key, sizeOf(item)),
        done,
        context,
        writeExtras(item.flags, expiration(expiry)),
        item instanceof TextItem ? item : item.value,
        cas
      ),
    concat: (side, key, value, done, context) =>
      request(
        key,
        side === "append" ? Opcode.Append : Opcode.Prepend,
        written,
        new Write(key, value.length),
        done,
        context,
        undefined,
        value
      ),
    writeMany: (entries, expiry, done, context) => {
      const field = expiration(expiry)
      return pipelined(
        entries,
        ([key]) => key,
        // The frames go to the connection as they are: large ones are written without another copy.
        (group, firstOpaque) => [
          ...group.map(([key, item], i) =>
            encodeRequest(Opcode.SetQ, firstOpaque + i, key, writeExtras(item.flags, field), item.value)
          ),
          encodeRequest(Opcode.Noop, firstOpaque + group.length)
        ],
        (connection, [key, item], response) =>
          response.status === Status.ValueTooLarge
            ? tooLarge(maxItemSize, key, item.value.length)
            : unexpected(connection, response, key),
        done,
        context,
        () => undefined
      )
    },
    delete: (key, done, context) => request(key, Opcode.Delete, existed, key, done, context),
    deleteMany: (keys, done, context) => {
      let missing = 0
      return pipelined(
        keys,
        (key) => key,
        (group, firstOpaque) => encodeKeyBatch(Opcode.DeleteQ, firstOpaque, group),
        (connection, key, response) => {
          if (response.status !== Status.KeyNotFound) return unexpected(connection, response, key)
          missing++
          return undefined
        },
        done,
        context,
        () => keys.length - missing
      )
    },
    touch: (key, expiry, done, context) =>
      request(key, Opcode.Touch, existed, key, done, context, expirationExtras(expiration(expiry))),
    counter: (direction, key, delta, initial, expiry, done, context) =>
      request(
        key,
        direction === "increment" ? Opcode.Increment : Opcode.Decrement,
        counterValue,
        key,
        done,
        context,
        counterExtras(delta, initial ?? 0n, initial === undefined ? DO_NOT_CREATE : expiration(expiry))
      ),
    stats: (done, context) => eachServer(askStats, byServer, done, context),
    flush: (done, context) => eachServer(askFlush, () => undefined, done, context),
    version: (done, context) => eachServer(askVersion, byServer, done, context),
    close
  }
}
