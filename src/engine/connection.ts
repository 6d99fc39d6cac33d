/**
 * One server's connection: a server object of the connection's wire (a memjs `Server`, with its socket and SASL, or a
 * meta one) driven with our own requests, written a flight at a time with one deadline per flight (one timer watches
 * them all), and a fresh server object after any transport failure. Nothing is retried here, so nothing is sent twice,
 * and a wedged or half-read connection is never reused.
 *
 * @internal
 */
import { AsyncResource } from "node:async_hooks"
import type * as Net from "node:net"
import type { Health } from "./ejection.js"
import { Admission } from "./ejection.js"
import type { Done } from "./failure.js"
import { EngineFailure, toEngineFailure } from "./failure.js"
import type { Response } from "./protocol.js"
import { isRecyclable, joinFrames, recycleFrame } from "./protocol.js"
import type { ServerAddress } from "./servers.js"
import { recordRuns } from "./tlsRecord.js"

/**
 * @internal What a connection drives of a server object: its socket, opened (and authenticated) by `sock`, and
 * `error`, which drops the socket. The wire reads the socket's responses and hands each to the server's `respond`.
 */
export interface WireServer {
  _socket?: Net.Socket | undefined
  /** Whether `_socket` is connected and authenticated, so that `sock` would hand it over at once. */
  connected: boolean
  /** Our connections' open flights on this server object (see `makeConnection`'s `unrefIdle`). */
  openFlights?: number
  sock(sasl: boolean, go: (socket: Net.Socket) => void): void
  error(cause: unknown): void
  removeAllListeners(): unknown
}

/**
 * @internal A dialect's server objects, as connections use them: the client's list of them (shared with memjs's own
 * client, for the binary wire), how a failed one is replaced, and how one reads its responses. The one seam between
 * the connections (flights, deadlines, ejection) and a dialect.
 */
export interface Wire<S extends WireServer> {
  readonly servers: Array<S>
  /** A fresh server object for the same server, with the same credentials. */
  readonly replace: (failed: S) => S
  /**
   * Makes `server` read its socket's responses (items up to `maxItemSize` bytes), hand each to its `respond` (a
   * response nobody claims fails the server) and fail the server when its socket closes; once per server object.
   */
  readonly install: (server: S, maxItemSize: number) => void
}

/**
 * @internal The opaque of a response that carries none (meta's `MN`, and its error lines): it answers the oldest
 * pending request of its server, as memcached answers a connection's requests in order.
 */
export const IN_ORDER = -1

/** What connections read of a response: the opaque of the request it answers, or `IN_ORDER`. */
interface Answer {
  readonly opaque: number
}

/** A batch's quiet requests on one server: opaques `first` up to `end`, the opaque of the batch's final no-op. */
class QuietRange {
  constructor(
    readonly first: number,
    readonly end: number,
    readonly onQuiet: (index: number, response: any) => void
  ) {}
}

/**
 * What one connection waits for on one memjs `Server`: its pending requests and batches, in the order they were
 * written, and the quiet ranges of its pending batches. memcached answers a connection's requests in the order it
 * reads them, so the response a request waits for is the next one that is not quiet and not memjs's own; a batch
 * waits for its final no-op. memjs would instead keep two closures per request in two objects keyed by opaque (`responseCallbacks`,
 * `errorCallbacks`): about 0.25 µs per request to add, find and delete, against a few nanoseconds for this queue, and
 * a `Map` keyed by opaque was worse still (each scavenge took about 7 ms instead of 1 with 16 gets in flight).
 */
class Awaiting {
  /** The oldest pending request; each links to the next (`Pending.next`). */
  first: Pending | undefined = undefined
  last: Pending | undefined = undefined
  count = 0
  ranges = new Array<QuietRange>()

  push(pending: Pending): void {
    if (this.last === undefined) this.first = pending
    else this.last.next = pending
    this.last = pending
    this.count++
    if (pending.range !== undefined) this.ranges.push(pending.range)
  }

  /** Takes the oldest pending request, `first`, when its response has come. */
  shift(first: Pending): void {
    this.first = first.next
    if (this.first === undefined) this.last = undefined
    first.next = undefined
    this.count--
    if (first.range !== undefined) this.ranges.splice(this.ranges.indexOf(first.range), 1)
  }

  /** Takes every pending request, oldest first. */
  takeAll(): Array<Pending> {
    const all: Array<Pending> = []
    for (let pending = this.first; pending !== undefined; pending = pending.next) all.push(pending)
    this.first = this.last = undefined
    this.count = 0
    this.ranges = []
    return all
  }
}

/** The parts of a memjs `Server` that `installAwaiting` wraps. */
interface RoutedServer {
  /** Hands on a response; `false` when no request in flight claims it (see `FramedServer`). */
  respond(response: Answer): boolean | void
  error(cause: unknown): void
  /** memjs's own requests' callbacks, by opaque. */
  responseCallbacks: Record<number, unknown>
}

/** Servers whose memjs `respond` says whether one of memjs's own requests claimed the response. */
const claiming = new WeakSet<RoutedServer>()

/**
 * Makes memjs's own `respond`, under every connection's, return whether the response answered one of memjs's own
 * requests (for SASL, or a caller's use of its own memjs client), so that a response nobody claims is seen.
 */
const installClaiming = (server: RoutedServer) => {
  if (claiming.has(server)) return
  claiming.add(server)
  const respond = server.respond
  server.respond = (response) => {
    if (server.responseCallbacks[response.opaque] === undefined) return false
    respond.call(server, response)
    return true
  }
}

/**
 * Routes `server`'s responses to a new `Awaiting`, which it returns: one in a pending batch's quiet range goes to that
 * batch, the one the oldest pending request or batch waits for goes to `onAnswer`, any other to the `respond` it
 * wraps (memjs's own, for SASL and the requests of a caller's own memjs client, or another connection's on the same
 * client), which says whether it was claimed. A transport failure (memjs's `error`) hands every pending request of the
 * server to `onError` at once, after memjs has failed its own. A response that nobody claims (one that skipped our
 * oldest request, which memcached never sends) makes framing fail the server (see `installFraming`).
 */
const installAwaiting = <S extends WireServer>(
  server: S,
  onAnswer: (pending: Pending, response: Answer) => void,
  onError: (server: S, failed: Array<Pending>, cause: unknown) => void
): Awaiting => {
  const routed = server as unknown as RoutedServer
  installClaiming(routed)
  const awaiting = new Awaiting()
  const respond = routed.respond
  const error = routed.error
  routed.respond = (response) => {
    const opaque = response.opaque
    const ranges = awaiting.ranges
    for (let i = 0; i < ranges.length; i++) {
      const range = ranges[i]!
      if (opaque >= range.first && opaque < range.end) {
        range.onQuiet(opaque - range.first, response)
        return true
      }
    }
    const first = awaiting.first
    if (first === undefined || (first.opaque !== opaque && opaque !== IN_ORDER)) return respond.call(server, response)
    awaiting.shift(first)
    onAnswer(first, response)
    return true
  }
  routed.error = (cause) => {
    const failed = awaiting.takeAll()
    error.call(server, cause)
    if (failed.length > 0) onError(server, failed, cause)
  }
  return awaiting
}

/**
 * Requests made together form a flight: their frames leave in one write, and they share one deadline. The write waits
 * for a microtask queued by the first request: callers resumed by the same batch of responses run first (Effect
 * resumes fibers in microtasks queued earlier), and so do promise callbacks already queued, so their requests join the
 * flight, while a lone request still leaves without waiting for the next turn of the event loop.
 *
 * It is a class, as is every object made per request (`Pending`, `QuietRange`, the `Item`s read): see `item.ts` on
 * why.
 */
class Flight {
  readonly frames = new Array<Buffer>()
  /** The frames' total length in bytes. */
  size = 0
  /**
   * Requests not yet settled, which wait in `awaiting` with the server's other requests; the flight leaves the
   * connection's open flights when none are left.
   */
  open = 0
  /** Whether the frames went out on a connected socket, so that the server may have applied them. */
  written = false
  /** The neighbours in the connection's open flights, oldest first. */
  older: Flight | undefined = undefined
  newer: Flight | undefined = undefined
  constructor(readonly server: WireServer, readonly awaiting: Awaiting, readonly deadline: number) {}
}

/**
 * @internal What a response means to its request: `context` is the request's own (its key, say). The answer may be an
 * `EngineFailure` (a status the request did not expect).
 */
export type Interpret<A, C, R = Response> = (connection: Connection<R>, response: R, context: C) => A | EngineFailure

/**
 * One request (or batch) of a flight, until its answer, its failure or its deadline settles it. It holds the
 * `interpret` of its answer with its `context`, and the caller's `done` with the caller's context, so that a request
 * costs this one object and no closures of its own.
 *
 * It is an `AsyncResource` made in the caller's async context, and `finish` calls `done` there: the caller resumes
 * in its own context (its `AsyncLocalStorage` stores, an OpenTelemetry context manager's active span), not in the one
 * the socket was opened in, which is another caller's. It costs about 0.1 µs per request (a `snapshot()` per
 * request measured 100 times that).
 */
class Pending extends AsyncResource {
  settled = false
  /** The next pending request on the same server (see `Awaiting`). */
  next: Pending | undefined = undefined
  constructor(
    readonly flight: Flight,
    /** The opaque of the response that settles it: a batch's is its final no-op's. */
    readonly opaque: number,
    readonly interpret: Interpret<any, any, any>,
    readonly context: unknown,
    readonly done: Done<any, any>,
    readonly doneContext: unknown,
    /** A batch's quiet range, answered by its final no-op. */
    readonly range: QuietRange | undefined
  ) {
    super("effect-memcached.request", requestResource)
  }

  /** Calls the caller's `done` in the caller's async context, once. */
  finish(result: unknown, report?: number): void {
    this.runInAsyncScope(this.done, undefined, this.doneContext, result, report)
    this.emitDestroy()
  }
}

/** `finish` ends each request's async resource itself: nothing is left for the garbage collector to track. */
const requestResource = { requireManualDestroy: true }

const answeredNothing = () => undefined

/**
 * Queues a flight's launch as a microtask: `then` on a settled promise runs in the same place of the queue as
 * `queueMicrotask`, at about a third of the cost, without the `AsyncResource` and bound function Node makes for each.
 */
const resolved = Promise.resolve()

/** A wall-clock pause. */
const pause = (millis: number) => new Promise<void>((resolve) => setTimeout(resolve, millis))

/** @internal A connection whose server answers with responses `R` (`Response` on the binary wire). */
export interface Connection<R = Response> {
  readonly address: ServerAddress
  /** Whether the server is in the pool or ejected after repeated failures. */
  readonly health: Health
  /**
   * Sends one request and calls `done(doneContext, result, report)` exactly once (see `Done`): with
   * `interpret(connection, response, context)` when its one response comes within the deadline, or with the failure.
   * Functions made once and contexts cost no closure per request.
   */
  readonly send: <A, C, D>(
    frame: Buffer,
    opaque: number,
    interpret: Interpret<A, C, R>,
    context: C,
    done: Done<A, D>,
    doneContext: D
  ) => void
  /**
   * Sends `count` quiet requests (opaques `firstOpaque`, `firstOpaque + 1`, …, see `nextOpaques`) and a final no-op
   * (opaque `firstOpaque + count`), framed in `frames`, in one write; `onQuiet` sees each response a quiet request
   * produced, in order, with the request's index; `done` gets `undefined` when the no-op answers, or what `finish`
   * makes of the response that ends the batch (a response without an opaque, on the meta wire).
   */
  readonly batch: <D>(
    frames: ReadonlyArray<Buffer>,
    firstOpaque: number,
    count: number,
    onQuiet: (index: number, response: R) => void,
    done: Done<undefined, D>,
    doneContext: D,
    finish?: Interpret<undefined, undefined, R>
  ) => void
  /** The failure of a request refused because the server is ejected (see `Health`), at `now` (epoch ms). */
  readonly ejected: (now: number) => EngineFailure
  /**
   * Tears down the current socket (failing its in-flight requests) so the next request starts afresh; it counts
   * towards ejection unless `ejectable` is `false` (the server is up, but refused our credentials).
   */
  readonly reset: (reason: string, ejectable?: boolean) => void
  /**
   * Refuses new requests (they fail as `Unavailable`, `closed`), lets in-flight ones settle for up to `graceMillis`,
   * then, if `destroy`, fails what is left and closes the socket.
   */
  readonly close: (graceMillis: number, destroy: boolean) => Promise<void>
}

/** Above this many bytes, a flight's frames are written side by side (one `writev`) instead of being joined first. */
const JOIN_LIMIT = 64 * 1024

/** Writes one frame; a frame in a recyclable buffer hands it back once the socket is done with it. */
const writeFrame = (socket: Net.Socket, frame: Buffer) => {
  if (isRecyclable(frame)) socket.write(frame, () => recycleFrame(frame))
  else socket.write(frame)
}

/** Whether `socket` speaks TLS (a `TLSSocket`). */
const isTls = (socket: Net.Socket): boolean => (socket as { readonly encrypted?: boolean }).encrypted === true

/** Each TLS socket's writes that wait for the one in progress, oldest first (see `writeInRecords`). */
const waitingWrites = new WeakMap<Net.Socket, Array<Buffer>>()

/** Writes `chunk` to a TLS socket once no other write is in progress on it, then the next one waiting. */
const writeInTurn = (socket: Net.Socket, chunk: Buffer): void => {
  const waiting = waitingWrites.get(socket)
  if (waiting !== undefined) return void waiting.push(chunk)
  waitingWrites.set(socket, [])
  writeThenNext(socket, chunk)
}

/** Writes `chunk`, and once the socket has taken it, the next write waiting on the socket, if any. */
const writeThenNext = (socket: Net.Socket, chunk: Buffer): void => {
  socket.write(chunk, (error) => {
    recycleFrame(chunk)
    // A failed write fails the socket, and its requests with it: what waited is dropped.
    const next = error == null ? waitingWrites.get(socket)?.shift() : undefined
    if (next === undefined) waitingWrites.delete(socket)
    else writeThenNext(socket, next)
  })
}

/**
 * Writes frames to a TLS socket as memcached needs them (see `tlsRecord.ts`): frames (each of whole requests, one
 * request when larger than a record) joined up to one record, a larger frame on its own, one write at a time. Node
 * would otherwise join writes queued behind one in progress into one stream of records, cut anywhere.
 */
const writeInRecords = (socket: Net.Socket, frames: ReadonlyArray<Buffer>): void => {
  let from = 0
  for (const end of recordRuns(frames.length, (i) => frames[i]!.length, 0)) {
    if (end - from === 1) writeInTurn(socket, frames[from]!)
    else if (end > from) {
      let size = 0
      for (let i = from; i < end; i++) size += frames[i]!.length
      writeInTurn(socket, joinFrames(frames.slice(from, end), size))
    }
    from = end
  }
}

/**
 * Marks a flight written and writes its frames as one write: small ones joined into one buffer, large ones handed over
 * as they are. Over TLS, in writes of at most a record (`writeInRecords`).
 */
const writeFlight = (socket: Net.Socket, flight: Flight) => {
  flight.written = true
  const frames = flight.frames
  if (isTls(socket)) return writeInRecords(socket, frames)
  if (frames.length === 1) writeFrame(socket, frames[0]!)
  else if (flight.size <= JOIN_LIMIT) writeFrame(socket, joinFrames(frames, flight.size))
  else {
    socket.cork()
    for (const frame of frames) writeFrame(socket, frame)
    socket.uncork()
  }
}

/**
 * Wraps `wire.servers[index]`. When a request fails at the transport level or passes its deadline, that server
 * object is torn down (its other in-flight requests fail too) and replaced in the client by a fresh one.
 *
 * @internal
 */
export const makeConnection = <S extends WireServer, R extends Answer = Response>(
  wire: Wire<S>,
  index: number,
  address: ServerAddress,
  deadlineMillis: number,
  maxItemSize: number,
  health: Health,
  unrefIdle: boolean
): Connection<R> => {
  let closed = false
  const servers = wire.servers
  const label = address.label

  /**
   * Replaces a failed server object; each replacement counts once towards ejection, however many requests it fails.
   * A server that refuses our credentials is up (`ejectable: false`): it is not ejected, and the caller sees `Auth`.
   */
  const recycle = (failed: S, error: unknown, ejectable = true) => {
    if (servers[index] !== failed) return
    if (!closed) {
      if (ejectable) health.failed(Date.now())
      const fresh = wire.replace(failed)
      awaitingOn(fresh)
      servers[index] = fresh
    }
    failed.error(error)
    failed._socket?.destroy()
    failed.removeAllListeners()
  }

  /** The failure of every request that a close ends or refuses, made once: it says nothing per request. */
  let closedFailure: EngineFailure | undefined
  const closedError = () =>
    closedFailure ??= new EngineFailure("Unavailable", label, "the cache is closed", undefined, false, true)
  const deadlineError = () => new EngineFailure("Timeout", label, `no answer within ${deadlineMillis} ms`)
  const ejected = (now: number) =>
    new EngineFailure(
      "Unavailable",
      label,
      `ejected after ${health.ejectAfter} failed connections in a row; ${
        health.trialInFlight()
          ? "a trial request is in flight"
          : `tried again in ${Math.max(0, Math.ceil(((health.ejectedUntil() ?? now) - now) / 1000))} s`
      }`
    )

  /** The request that holds the ejected server's trial (see `Health.admit`), until it settles. */
  let trial: Pending | undefined

  let collecting: Flight | undefined

  /**
   * The flights with requests still open, oldest first, and one timer for all of them: armed for the oldest one's
   * deadline, it expires the flights whose deadline passed and is armed again for the next. A request costs no timer
   * of its own, and a settled flight is unlinked at once, so nothing is kept until the timer fires. The timer is
   * unref'd: the socket keeps the process alive while a request is on it.
   */
  let oldest: Flight | undefined
  let newest: Flight | undefined
  /** Whether a deadline check is pending: a timer armed, or a check waiting for this turn's reads. */
  let checking = false

  /**
   * The timer fired. A turn of the event loop runs its due timers before it reads its sockets, so after the loop was
   * held (a loaded machine, a long synchronous task) answers that came in time are still unread now: the flights are
   * expired after this turn's reads, not before them.
   */
  const checkDeadlines = () => {
    setImmediate(expireDue)
  }

  const expireDue = () => {
    checking = false
    const now = Date.now()
    while (oldest !== undefined && oldest.deadline <= now) expire(oldest)
    if (oldest !== undefined) armDeadlines(oldest.deadline - now)
  }

  const armDeadlines = (millis: number) => {
    checking = true
    setTimeout(checkDeadlines, millis).unref()
  }

  /**
   * With `unrefIdle`, a server's socket holds the process only while a flight is open on it: it is ref'd when the
   * first flight opens (a socket memjs opens then is ref'd already) and unref'd when the last one closes, so a
   * script that forgets to close the layer still exits, while one with a request in flight waits for it. The count
   * lives on the server object, shared by every connection that uses it.
   */
  const hold = (server: WireServer) => {
    if ((server.openFlights = (server.openFlights ?? 0) + 1) !== 1) return
    const socket = server._socket
    if (socket !== undefined && !socket.destroyed) socket.ref()
  }
  const letGo = (server: WireServer) => {
    if (--server.openFlights! !== 0) return
    const socket = server._socket
    if (socket !== undefined && !socket.destroyed) socket.unref()
  }

  const link = (flight: Flight) => {
    if (unrefIdle) hold(flight.server)
    flight.older = newest
    if (newest === undefined) oldest = flight
    else newest.newer = flight
    newest = flight
    if (!checking) armDeadlines(deadlineMillis)
  }

  const unlink = (flight: Flight) => {
    if (unrefIdle) letGo(flight.server)
    if (flight.older === undefined) oldest = flight.newer
    else flight.older.newer = flight.newer
    if (flight.newer === undefined) newest = flight.older
    else flight.newer.older = flight.older
    flight.older = flight.newer = undefined
  }

  /** Settles a request once, whichever way: the trial it holds, if any, is given back. */
  const settle = (pending: Pending): boolean => {
    if (pending.settled) return false
    pending.settled = true
    if (pending === trial) {
      trial = undefined
      health.release()
    }
    if (--pending.flight.open === 0) unlink(pending.flight)
    return true
  }

  /**
   * Fails requests that one event ended (a transport failure, a deadline, a close), all settled already. They share
   * two failures, made once: `failure` for those never written, and a copy that says it may have been applied
   * (`EngineFailure.mayHaveBeenApplied`) for those written; the first request's `report` counts them all.
   */
  const failAll = (failed: ReadonlyArray<Pending>, failure: EngineFailure) => {
    let written: EngineFailure | undefined
    for (let i = 0; i < failed.length; i++) {
      const pending = failed[i]!
      const error = pending.flight.written ? written ??= failure.written() : failure
      pending.finish(error, i === 0 ? failed.length : 0)
    }
  }

  const answer = (pending: Pending, response: Answer) => {
    if (!settle(pending)) return
    health.succeeded()
    pending.finish(pending.interpret(connection, response, pending.context))
  }

  /** The server failed at the transport level: its requests fail, and the server object is replaced. */
  const failOnError = (server: S, failed: Array<Pending>, cause: unknown) => {
    let open = 0
    for (const pending of failed) if (settle(pending)) failed[open++] = pending
    failed.length = open
    const failure = toEngineFailure(cause, label)
    recycle(server, cause, failure.reason !== "Auth")
    failAll(failed, failure)
  }

  /**
   * This connection's `Awaiting` on the server object it last sent to. Each connection has its own (two layers may
   * share one memjs client); a server object another connection put in the client gets ours when we first use it.
   */
  let installedOn: S | undefined
  let awaiting: Awaiting | undefined
  const awaitingOn = (server: S): Awaiting => {
    if (server !== installedOn || awaiting === undefined) {
      wire.install(server, maxItemSize)
      awaiting = installAwaiting(server, answer, failOnError)
      installedOn = server
    }
    return awaiting
  }

  /**
   * The deadline passed with requests unanswered: the flight's requests still in its server's queue fail as `Timeout`,
   * and the server object is replaced (which fails the server's other requests too).
   */
  const expire = (flight: Flight) => {
    const late: Array<Pending> = []
    for (let pending = flight.awaiting.first; pending !== undefined; pending = pending.next) {
      if (pending.flight === flight && settle(pending)) late.push(pending)
    }
    recycle(flight.server as S, new Error(`socket timed out: no answer within ${deadlineMillis} ms`))
    failAll(late, deadlineError())
  }

  /**
   * Writes a flight's frames once the socket is up (memjs connects and authenticates first), unless every request in
   * it already settled or its server object was replaced.
   */
  const launch = (flight: Flight) => {
    if (collecting === flight) collecting = undefined
    const server = flight.server
    if (flight.open === 0 || servers[index] !== server) return
    // A connected socket is written at once, as memjs's `sock` would do, without a callback made for it.
    const socket = server._socket
    if (socket !== undefined && server.connected) return writeFlight(socket, flight)
    server.sock(false, (socket) => writeFlight(socket, flight))
  }

  const flightFor = (server: S): Flight => {
    if (collecting !== undefined && collecting.server === server) return collecting
    const flight = new Flight(server, awaitingOn(server), Date.now() + deadlineMillis)
    link(flight)
    resolved.then(() => launch(flight))
    collecting = flight
    return flight
  }

  /**
   * Queues a request's frame (or a batch's frames) on this turn's flight, to be settled by the response with opaque
   * `opaque` (`interpret` with `context` says what it means), by a transport failure, or by the deadline; `done` is
   * called exactly once, perhaps before `enqueue` returns (a closed connection, an ejected server). There is no
   * canceling: a caller who stops waiting drops the answer, and its request, which may already be on the wire, still
   * settles.
   */
  const enqueue = <A, C, D>(
    frames: Buffer | ReadonlyArray<Buffer>,
    opaque: number,
    interpret: Interpret<A, C, R>,
    context: C,
    range: QuietRange | undefined,
    done: Done<A, D>,
    doneContext: D
  ): void => {
    if (closed) return done(doneContext, closedError(), 1)
    const admission = health.admit()
    if (admission === Admission.Refused) return done(doneContext, ejected(Date.now()), 1)
    const server = servers[index]!
    const flight = flightFor(server)
    const pending = new Pending(flight, opaque, interpret, context, done, doneContext, range)
    if (admission === Admission.Trial) trial = pending
    if (Buffer.isBuffer(frames)) {
      flight.frames.push(frames)
      flight.size += frames.length
    } else {
      for (const frame of frames) {
        flight.frames.push(frame)
        flight.size += frame.length
      }
    }
    flight.open++
    flight.awaiting.push(pending)
  }

  const send: Connection<R>["send"] = (frame, opaque, interpret, context, done, doneContext) =>
    enqueue(frame, opaque, interpret, context, undefined, done, doneContext)

  const batch: Connection<R>["batch"] = (frames, firstOpaque, count, onQuiet, done, doneContext, finish) =>
    enqueue(
      frames,
      firstOpaque + count,
      finish ?? answeredNothing,
      undefined,
      new QuietRange(firstOpaque, firstOpaque + count, onQuiet),
      done,
      doneContext
    )

  const inFlight = () => servers[index] === installedOn ? awaiting!.count : 0
  const close = async (graceMillis: number, destroy: boolean) => {
    closed = true
    const deadline = Date.now() + graceMillis
    while (inFlight() > 0 && Date.now() < deadline) await pause(5)
    if (destroy) recycle(servers[index]!, closedError())
  }

  const reset = (reason: string, ejectable?: boolean) => recycle(servers[index]!, new Error(reason), ejectable)

  awaitingOn(servers[index]!)

  const connection: Connection<R> = { address, health, send, batch, ejected, reset, close }
  return connection
}
