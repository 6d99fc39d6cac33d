/**
 * The real store: memcached servers reached through memjs's sockets, with requests framed here so that flags,
 * get-and-touch, 64-bit counters and quiet pipelined batches all work.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import { MemcachedError } from "../errors/MemcachedError.js"
import type { ValueTooLarge } from "../errors/ValueTooLarge.js"
import type { Backend, Item, WriteMode } from "./backend.js"
import type { Connection, MemjsClient } from "./connection.js"
import { makeConnection, nextOpaque, nextOpaques } from "./connection.js"
import type { EjectionOptions } from "./ejection.js"
import { makeHealth } from "./ejection.js"
import { valueTooLarge } from "./itemSize.js"
import type { WireKey } from "./keys.js"
import type { Placement } from "./placement.js"
import type { Response } from "./protocol.js"
import {
  counterExtras,
  describeStatus,
  DO_NOT_CREATE,
  encodeKeyRequests,
  encodeRequest,
  expirationExtras,
  Opcode,
  Status,
  storeExtras
} from "./protocol.js"
import { ItemRecord } from "./records.js"
import type { ServerAddress } from "./servers.js"
import { toExpirationField } from "./ttl.js"

/** @internal */
export interface MemjsStoreOptions {
  readonly client: MemjsClient
  readonly addresses: ReadonlyArray<ServerAddress>
  readonly deadlineMillis: number
  readonly maxItemSize: number
  readonly placement: Placement
  readonly ejection: EjectionOptions
  /** Send a key whose server is ejected to the next live server on the ring, instead of failing. */
  readonly failover: boolean
  /** Let idle sockets not hold the process: for a client the layer owns, never for one the caller brought. */
  readonly unrefIdle: boolean
}

/** @internal The store plus the connections its layer releases. */
export interface MemjsStore extends Backend {
  readonly connections: ReadonlyArray<Connection>
}

const storeOpcodes: Record<WriteMode, number> = { set: Opcode.Set, add: Opcode.Add, replace: Opcode.Replace }

const unexpected = (connection: Connection, response: Response, key?: WireKey): MemcachedError => {
  const status = response.status
  if (status === Status.InvalidArguments) connection.reset("the server closed the connection after invalid arguments")
  return new MemcachedError({
    reason: status === Status.AuthError ? "Auth" : "Protocol",
    server: connection.address.label,
    detail: `${describeStatus(status)}${key ? ` (key ${JSON.stringify(key.key)})` : ""}`
  })
}

/**
 * Puts the request's server on the current fiber's span, if there is one. It runs inside `Effect.async`'s register,
 * where the fiber that runs it is the current one: no `withFiberRuntime` step for a look that usually finds no span.
 */
const annotateServer = (connection: Connection) => {
  const fiber = Fiber.getCurrentFiber()
  if (Option.isNone(fiber)) return
  const span = fiber.value.currentSpan
  if (span?._tag !== "Span") return
  for (const key in connection.spanAttributes) span.attribute(key, connection.spanAttributes[key])
}

const itemOf = (response: Response): Item => new ItemRecord(response.val, response.flags)

/** The answer of a request without a key: the response itself when `Ok`. */
const okResponse = (connection: Connection, response: Response) =>
  response.status === Status.Ok ? Effect.succeed(response) : Effect.fail(unexpected(connection, response))

/** @internal */
export const makeMemjsStore = (options: MemjsStoreOptions): MemjsStore => {
  const { addresses, client, deadlineMillis, maxItemSize, placement } = options
  const connections = addresses.map((address, index) =>
    makeConnection(client, index, address, deadlineMillis, maxItemSize, makeHealth(options.ejection), options.unrefIdle)
  )
  const now = () => Date.now() // memcached reads absolute expirations against the wall clock, never a TestClock

  /**
   * The key's server, or its ring successor when it is ejected and `failover` is on. This only looks at the servers'
   * health: an ejected server's trial is taken by the request the connection sends (see `Health`).
   */
  const route = (key: WireKey, at = Date.now()): Connection | MemcachedError => {
    const home = connections[connections.length === 1 ? 0 : placement.locate(key.text)] ?? connections[0]!
    if (home.health.available(at)) return home
    if (!options.failover) return home.ejected(at)
    const next = placement.locateAlive(key.text, (index) => connections[index]!.health.available(at))
    return next >= 0 ? connections[next]! : home.ejected(at)
  }

  /** The items by server, in their order; a key that has no server fails the whole batch. */
  const groupByConnection = <A>(items: ReadonlyArray<A>, keyOf: (item: A) => WireKey) => {
    const groups: Array<readonly [Connection, Array<A>]> = []
    const at = Date.now()
    for (const item of items) {
      const connection = route(keyOf(item), at)
      if (connection instanceof MemcachedError) return connection
      let g = 0
      while (g < groups.length && groups[g]![0] !== connection) g++
      if (g === groups.length) groups.push([connection, []])
      groups[g]![1].push(item)
    }
    return groups
  }

  /**
   * One request to the key's server; `interpret` turns its response (and the key) into the answer. Pass a function
   * made once where the key is all it needs: no closure is then made per request.
   */
  const request = <A, E>(
    key: WireKey,
    opcode: number,
    interpret: (connection: Connection, response: Response, key: WireKey) => Effect.Effect<A, E>,
    extras?: () => Uint8Array,
    value?: Uint8Array,
    cas?: bigint
  ) =>
    Effect.async<A, E | MemcachedError>((resume) => {
      const connection = route(key)
      if (connection instanceof MemcachedError) return resume(Effect.fail(connection))
      annotateServer(connection)
      const opaque = nextOpaque(client)
      connection.send(encodeRequest(opcode, opaque, key.bytes, extras?.(), value, cas), opaque, interpret, key, resume)
    })

  /** Quiet requests to one server in one write; `onQuiet` sees the answers the quiet requests gave. */
  const quietBatch = <A, E extends MemcachedError | ValueTooLarge>(
    connection: Connection,
    group: ReadonlyArray<A>,
    encode: (group: ReadonlyArray<A>, firstOpaque: number) => ReadonlyArray<Buffer>,
    onQuiet: (connection: Connection, item: A, response: Response) => E | undefined
  ): Effect.Effect<void, E | MemcachedError> => {
    const firstOpaque = nextOpaques(client, group.length + 1)
    let failure: E | undefined
    return Effect.flatMap(
      connection.batch(encode(group, firstOpaque), firstOpaque, group.length, (i, response) => {
        failure ??= onQuiet(connection, group[i]!, response)
      }),
      () => failure ? Effect.fail(failure) : Effect.void
    )
  }

  /**
   * Quiet requests to each key's server, one write per server: `encode` frames a server's items, with the opaques
   * `firstOpaque`, `firstOpaque + 1`, …, and the final no-op (opaque `firstOpaque + group.length`); `onQuiet` sees
   * the answers the quiet requests gave.
   */
  const pipelined = <A, E extends MemcachedError | ValueTooLarge>(
    items: ReadonlyArray<A>,
    keyOf: (item: A) => WireKey,
    encode: (group: ReadonlyArray<A>, firstOpaque: number) => ReadonlyArray<Buffer>,
    onQuiet: (connection: Connection, item: A, response: Response) => E | undefined
  ): Effect.Effect<void, E | MemcachedError> =>
    Effect.suspend(() => {
      const groups = groupByConnection(items, keyOf)
      if (groups instanceof MemcachedError) return Effect.fail(groups)
      // One server, the usual case: no fiber is forked.
      if (groups.length === 1) return quietBatch(groups[0]![0], groups[0]![1], encode, onQuiet)
      return Effect.forEach(
        groups,
        ([connection, group]) => Effect.suspend(() => quietBatch(connection, group, encode, onQuiet)),
        { concurrency: "unbounded", discard: true }
      )
    })

  const sameKey = (key: WireKey, response: Response) => response.hasKey(key.bytes)

  /** The answer of a write: `false` when memcached did not store it (exists, missing, or a stale CAS token). */
  const stored = (
    connection: Connection,
    key: WireKey,
    size: number,
    response: Response
  ): Effect.Effect<boolean, MemcachedError | ValueTooLarge> => {
    switch (response.status) {
      case Status.Ok:
        return Effect.succeed(true)
      case Status.KeyExists:
      case Status.KeyNotFound:
      case Status.NotStored:
        return Effect.succeed(false)
      case Status.ValueTooLarge:
        return Effect.fail(tooLarge(key, size))
      default:
        return Effect.fail(unexpected(connection, response, key))
    }
  }

  /** The answer of a request that succeeds on an existing key and says "not found" otherwise. */
  const existed = (connection: Connection, response: Response, key: WireKey) => {
    switch (response.status) {
      case Status.Ok:
        return Effect.succeed(true)
      case Status.KeyNotFound:
        return Effect.succeed(false)
      default:
        return Effect.fail(unexpected(connection, response, key))
    }
  }

  const readItem = (connection: Connection, response: Response, key: WireKey) => {
    switch (response.status) {
      case Status.Ok:
        if (sameKey(key, response)) return Effect.succeed(Option.some(itemOf(response)))
        connection.reset("a response carried another key")
        return Effect.fail(
          new MemcachedError({ reason: "Protocol", server: connection.address.label, detail: "mismatched response" })
        )
      case Status.KeyNotFound:
        return Effect.succeedNone
      default:
        return Effect.fail(unexpected(connection, response, key))
    }
  }

  const store: MemjsStore = {
    connections,
    maxItemSize,
    get: (key) => request(key, Opcode.GetK, readItem),
    getMany: (keys) =>
      Effect.suspend(() => {
        const found = new Array<Item | undefined>(keys.length)
        // The items are the keys' indices, so that each hit lands at its key's place, whatever its server.
        return pipelined(
          keys.map((_, i) => i),
          (i) => keys[i]!,
          (group, firstOpaque) => [encodeKeyRequests(Opcode.GetKQ, firstOpaque, group.map((i) => keys[i]!.bytes))],
          (connection, i, response) => {
            const key = keys[i]!
            if (response.status === Status.KeyNotFound) return undefined
            if (response.status !== Status.Ok) return unexpected(connection, response, key)
            if (!sameKey(key, response)) {
              connection.reset("a response carried another key")
              return new MemcachedError({
                reason: "Protocol",
                server: connection.address.label,
                detail: "mismatched response"
              })
            }
            found[i] = itemOf(response)
            return undefined
          }
        ).pipe(Effect.as(found))
      }),
    store: (mode, key, item, expiry, cas) =>
      request(
        key,
        storeOpcodes[mode],
        (connection, response) => stored(connection, key, item.value.length, response),
        () => storeExtras(item.flags, toExpirationField(expiry, now())),
        item.value,
        cas
      ),
    getWithCas: (key) =>
      request(key, Opcode.GetK, (connection, response) =>
        Effect.map(
          readItem(connection, response, key),
          Option.map((item) => ({ ...item, cas: response.cas.readBigUInt64BE(0) }))
        )),
    concat: (side, key, value) =>
      request(
        key,
        side === "append" ? Opcode.Append : Opcode.Prepend,
        (connection, response) => stored(connection, key, value.length, response),
        undefined,
        value
      ),
    stats: Effect.map(
      Effect.forEach(connections, (connection) =>
        Effect.suspend(() => {
          const opaque = nextOpaques(client, 2)
          const stats: Record<string, string> = {}
          const frames = [encodeRequest(Opcode.Stat, opaque), encodeRequest(Opcode.Noop, opaque + 1)]
          return connection.batch(frames, opaque, 1, (_, response) => {
            if (response.key.length > 0) stats[response.key.toString("utf8")] = response.val.toString("utf8")
          }).pipe(Effect.as([connection.address.label, stats] as const))
        }), { concurrency: "unbounded" }),
      (all) => new Map(all)
    ),
    storeMany: (entries, expiry) =>
      Effect.suspend(() => {
        const extras = (flags: number) => storeExtras(flags, toExpirationField(expiry, now()))
        return pipelined(
          entries,
          ([key]) => key,
          // The frames go to the connection as they are: large ones are written without another copy.
          (group, firstOpaque) => [
            ...group.map(([key, item], i) =>
              encodeRequest(Opcode.SetQ, firstOpaque + i, key.bytes, extras(item.flags), item.value)
            ),
            encodeRequest(Opcode.Noop, firstOpaque + group.length)
          ],
          (connection, [key, item], response) =>
            response.status === Status.ValueTooLarge
              ? tooLarge(key, item.value.length)
              : unexpected(connection, response, key)
        )
      }),
    delete: (key) => request(key, Opcode.Delete, existed),
    deleteMany: (keys) =>
      Effect.suspend(() => {
        let missing = 0
        return pipelined(
          keys,
          (key) => key,
          (group, firstOpaque) => [encodeKeyRequests(Opcode.DeleteQ, firstOpaque, group.map((key) => key.bytes))],
          (connection, key, response) => {
            if (response.status !== Status.KeyNotFound) return unexpected(connection, response, key)
            missing++
            return undefined
          }
        ).pipe(Effect.map(() => keys.length - missing))
      }),
    touch: (key, expiry) =>
      request(
        key,
        Opcode.Touch,
        existed,
        () => expirationExtras(toExpirationField(expiry, now()))
      ),
    getAndTouch: (key, expiry) =>
      request(
        key,
        Opcode.GetAndTouchK,
        readItem,
        () => expirationExtras(toExpirationField(expiry, now()))
      ),
    counter: (direction, key, delta, initial, expiry) =>
      request(
        key,
        direction === "increment" ? Opcode.Increment : Opcode.Decrement,
        (connection, response) => {
          switch (response.status) {
            case Status.Ok:
              return Effect.succeed(response.val.readBigUInt64BE(0))
            case Status.KeyNotFound:
              return Effect.succeed(undefined)
            default:
              return Effect.fail(unexpected(connection, response, key))
          }
        },
        () =>
          counterExtras(delta, initial ?? 0n, initial === undefined ? DO_NOT_CREATE : toExpirationField(expiry, now()))
      ),
    flush: Effect.forEach(connections, (connection) => Effect.asVoid(simple(connection, Opcode.Flush)), {
      concurrency: "unbounded",
      discard: true
    }),
    version: Effect.map(
      Effect.forEach(
        connections,
        (connection) =>
          Effect.map(
            simple(connection, Opcode.Version),
            (response) => [connection.address.label, response.val.toString("utf8")] as const
          ),
        { concurrency: "unbounded" }
      ),
      (versions) => new Map(versions)
    )
  }

  /** A request without a key (flush, version) to one server; anything but `Ok` fails. */
  function simple(connection: Connection, opcode: number) {
    return Effect.async<Response, MemcachedError>((resume) => {
      const opaque = nextOpaque(client)
      connection.send(encodeRequest(opcode, opaque), opaque, okResponse, undefined, resume)
    })
  }

  function tooLarge(key: WireKey, size: number) {
    return valueTooLarge(maxItemSize, key, size)
  }

  return store
}
