/**
 * One server's connection: a memjs `Server` (socket, SASL, response framing) driven with our own requests, our own
 * deadline per request, and a fresh `Server` after any transport failure. memjs never retries here, so nothing is
 * sent twice, and a wedged or half-read connection is never reused.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Memjs from "memjs"
import type * as Net from "node:net"
import { MemcachedError } from "../errors/MemcachedError.js"
import { SpanAttributes } from "../Observability.js"
import type { Health } from "./ejection.js"
import type { FramedServer } from "./framing.js"
import { installFraming } from "./framing.js"
import type { Response } from "./protocol.js"
import type { ServerAddress } from "./servers.js"

type ResponseCallback = ((response: Response) => void) & { quiet?: boolean }

/** @internal The parts of memjs's `Server` that memjs's typings leave out. */
export interface MemjsServer extends Memjs.Server {
  host: string
  port: number
  username: string | undefined
  password: string | undefined
  responseCallbacks: Record<number, ResponseCallback>
  errorCallbacks: Record<number, (error: unknown) => void>
  _socket?: Net.Socket | undefined
  write(frame: Buffer): void
  error(error: unknown): void
  close(): void
}

/** @internal The parts of memjs's `Client` we use; `seq` is shared so our requests never collide with its own. */
export interface MemjsClient {
  seq: number
  servers: Array<MemjsServer>
  incrSeq(): void
  getServer(key: string): string | number
}

/** @internal memjs's options for the servers we create: quiet, no retries, its own timeouts behind ours. */
export const memjsServerOptions = (deadlineMillis: number) => ({
  timeout: deadlineMillis / 1000 + 0.5,
  conntimeout: deadlineMillis / 1000 + 0.5,
  keepAlive: true,
  keepAliveDelay: 30
})

/** A wall-clock pause: the transport runs on real sockets, so a `TestClock` must not hold it up. */
const pause = (millis: number) =>
  Effect.async<void>((resume) => {
    const timer = setTimeout(() => resume(Effect.void), millis)
    return Effect.sync(() => clearTimeout(timer))
  })

const quietNoop: ResponseCallback = Object.assign(() => {}, { quiet: true })
const noop: ResponseCallback = () => {}
const ignoreError = (_error: unknown) => {}

/** @internal */
export interface Connection {
  readonly address: ServerAddress
  /** `server.address` and `server.port` for the span of a request to this server. */
  readonly spanAttributes: Readonly<Record<string, unknown>>
  /** Whether the server is in the pool or ejected after repeated failures. */
  readonly health: Health
  /** Sends one request and waits for its one response, within the deadline. */
  readonly request: (frame: Buffer, opaque: number) => Effect.Effect<Response, MemcachedError>
  /**
   * Sends quiet requests (opaques `opaques[i]`) and a final no-op (`finalOpaque`) in one write; `onQuiet` sees each
   * response a quiet request produced, in order; it completes when the no-op answers.
   */
  readonly batch: (
    frame: Buffer,
    opaques: ReadonlyArray<number>,
    finalOpaque: number,
    onQuiet: (index: number, response: Response) => void
  ) => Effect.Effect<void, MemcachedError>
  /** Tears down the current socket (failing its in-flight requests) so the next request starts afresh. */
  readonly reset: (reason: string) => void
  /**
   * Refuses new requests (they fail as `Unavailable`), lets in-flight ones settle for up to `graceMillis`, then, if
   * `destroy`, fails what is left and closes the socket.
   */
  readonly close: (graceMillis: number, destroy: boolean) => Effect.Effect<void>
}

/** @internal Allocates the next request id from the memjs client, so ids never collide with memjs's own. */
export const nextOpaque = (client: MemjsClient): number => {
  client.incrSeq()
  if (client.seq <= 0 || client.seq >= 0x7fff_ffff) client.seq = 1
  return client.seq
}

const sentButUnanswered = new WeakSet<MemcachedError>()

/**
 * Whether a failed request had been written to the server, so that it may have been applied there: true after a
 * missed deadline or a reset on a live connection, false when the connection was refused or never came up.
 *
 * @internal
 */
export const mayHaveBeenApplied = (error: MemcachedError): boolean => sentButUnanswered.has(error)

/** Transport failures go to the Effect logger at debug level; memjs itself is always given a silent logger. */
const logFailure = (error: MemcachedError) =>
  Effect.logDebug("memcached request failed").pipe(
    Effect.annotateLogs({ server: error.server ?? "", reason: error.reason, detail: error.detail ?? "" })
  )

/** @internal Maps whatever memjs or Node reported to a `MemcachedError`. */
export const toMemcachedError = (cause: unknown, server: string): MemcachedError => {
  if (typeof cause === "string") {
    return cause.includes("authentication")
      ? new MemcachedError({ reason: "Auth", server, detail: "SASL authentication failed" })
      : new MemcachedError({ reason: "Protocol", server, detail: cause })
  }
  const message = cause instanceof Error ? cause.message : String(cause)
  const code = typeof cause === "object" && cause !== null && "code" in cause ? String(cause.code) : undefined
  if (message.includes("timed out") || code === "ETIMEDOUT") {
    return new MemcachedError({ reason: "Timeout", server, detail: message, cause })
  }
  return new MemcachedError({ reason: "Unavailable", server, detail: code ?? (message || "connection failed"), cause })
}

/**
 * Wraps `client.servers[index]`. When a request fails at the transport level or passes its deadline, that server
 * object is torn down (its other in-flight requests fail too) and replaced in the client by a fresh one.
 *
 * @internal
 */
export const makeConnection = (
  client: MemjsClient,
  index: number,
  address: ServerAddress,
  deadlineMillis: number,
  health: Health
): Connection => {
  let closed = false
  const label = address.label
  installFraming(client.servers[index] as unknown as FramedServer)

  /**
   * Writes made in one turn of the event loop leave in one syscall: the socket is corked until the loop's check
   * phase, after every response that arrived in this turn has resumed its fiber.
   */
  let corked: Net.Socket | undefined
  const cork = (server: MemjsServer) => {
    const socket = server._socket
    if (socket === undefined || !server.connected || corked === socket) return
    corked = socket
    socket.cork()
    setImmediate(() => {
      corked = undefined
      socket.uncork()
    })
  }

  /**
   * Replaces a failed server object; each replacement counts once towards ejection, however many requests it fails.
   * A server that refuses our credentials is up (`ejectable: false`): it is not ejected, and the caller sees `Auth`.
   */
  const recycle = (failed: MemjsServer, error: unknown, ejectable = true) => {
    if (client.servers[index] !== failed) return
    if (!closed) {
      if (ejectable) health.failed(Date.now())
      const fresh = new Memjs.Server(
        failed.host,
        failed.port,
        failed.username,
        failed.password,
        failed.options
      ) as MemjsServer
      fresh.username = failed.username
      fresh.password = failed.password
      installFraming(fresh as unknown as FramedServer)
      client.servers[index] = fresh
    }
    failed.error(error)
    failed._socket?.destroy()
    failed.removeAllListeners()
  }

  const closedError = () => new MemcachedError({ reason: "Unavailable", server: label, detail: "the cache is closed" })
  const deadlineError = () =>
    new MemcachedError({ reason: "Timeout", server: label, detail: `no answer within ${deadlineMillis} ms` })

  /**
   * Writes `frame` and waits for `register`'s callbacks to settle it, or for the deadline. A failure whose request
   * may have reached the server is remembered (see `mayHaveBeenApplied`).
   */
  const send = <A>(
    frame: Buffer,
    register: (server: MemjsServer, succeed: (value: A) => void, fail: (error: unknown) => void) => void,
    neutralize: (server: MemjsServer) => void
  ) =>
    Effect.async<A, MemcachedError>((resume) => {
      if (closed) return resume(Effect.fail(closedError()))
      const server = client.servers[index]!
      let settled = false
      let written = server.connected && server._socket !== undefined
      const fail = (error: MemcachedError) => {
        if (written) sentButUnanswered.add(error)
        resume(Effect.fail(error))
      }
      const settle = () => {
        if (settled) return false
        settled = true
        clearTimeout(timer)
        return true
      }
      const timer = setTimeout(() => {
        if (!settle()) return
        neutralize(server)
        recycle(server, new Error(`socket timed out: no answer within ${deadlineMillis} ms`))
        fail(deadlineError())
      }, deadlineMillis)
      register(
        server,
        (value) => {
          if (!settle()) return
          health.succeeded()
          resume(Effect.succeed(value))
        },
        (error) => {
          if (!settle()) return
          const failure = toMemcachedError(error, label)
          recycle(server, error, failure.reason !== "Auth")
          fail(failure)
        }
      )
      cork(server)
      server.write(frame)
      if (!written) server.onConnect(() => written = true)
      return Effect.sync(() => {
        if (!settle()) return
        health.abandoned()
        neutralize(server)
      })
    }).pipe(Effect.tapError(logFailure))

  const request = (frame: Buffer, opaque: number) =>
    send<Response>(
      frame,
      (server, succeed, fail) => {
        server.responseCallbacks[opaque] = succeed
        server.errorCallbacks[opaque] = fail
      },
      (server) => {
        if (server.responseCallbacks[opaque]) server.responseCallbacks[opaque] = noop
        if (server.errorCallbacks[opaque]) server.errorCallbacks[opaque] = ignoreError
      }
    )

  const batch = (
    frame: Buffer,
    opaques: ReadonlyArray<number>,
    finalOpaque: number,
    onQuiet: (index: number, response: Response) => void
  ) => {
    const forget = (server: MemjsServer, replacement: ResponseCallback | undefined) => {
      for (const opaque of opaques) {
        if (replacement) server.responseCallbacks[opaque] = replacement
        else delete server.responseCallbacks[opaque]
        delete server.errorCallbacks[opaque]
      }
    }
    return send<void>(
      frame,
      (server, succeed, fail) => {
        opaques.forEach((opaque, i) => {
          const callback: ResponseCallback = (response) => onQuiet(i, response)
          callback.quiet = true
          server.responseCallbacks[opaque] = callback
        })
        server.responseCallbacks[finalOpaque] = () => {
          forget(server, undefined)
          succeed()
        }
        server.errorCallbacks[finalOpaque] = fail
      },
      (server) => {
        forget(server, quietNoop)
        if (server.responseCallbacks[finalOpaque]) server.responseCallbacks[finalOpaque] = noop
        if (server.errorCallbacks[finalOpaque]) server.errorCallbacks[finalOpaque] = ignoreError
      }
    )
  }

  const inFlight = () => Object.keys(client.servers[index]!.responseCallbacks).length
  const close = (graceMillis: number, destroy: boolean) =>
    Effect.gen(function*() {
      closed = true
      const deadline = Date.now() + graceMillis
      while (inFlight() > 0 && Date.now() < deadline) yield* pause(5)
      if (destroy) recycle(client.servers[index]!, closedError())
    })

  const reset = (reason: string) => recycle(client.servers[index]!, new Error(reason))

  const spanAttributes = { [SpanAttributes.serverAddress]: address.host, [SpanAttributes.serverPort]: address.port }

  return { address, spanAttributes, health, request, batch, reset, close }
}
