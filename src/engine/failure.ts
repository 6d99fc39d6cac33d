/**
 * How the engine says a request failed: a plain `EngineFailure` value, which each Effect line maps to its own tagged
 * error at its one boundary, and the callback shape every engine operation answers through.
 *
 * @internal
 */
import { ConnectionClosed, ProtocolViolation } from "./framing.js"

/**
 * @internal `Unavailable` (refused, reset, closed, ejected), `Timeout` (no answer within the deadline), `Auth` (SASL
 * rejected, or a TLS certificate rejected by either side) or `Protocol` (a status or a frame the request did not
 * expect, or a TLS handshake that failed).
 */
export type FailureReason = "Unavailable" | "Timeout" | "Auth" | "Protocol"

/**
 * @internal The default retry, when the caller gives none: a request is sent again `DEFAULT_RESENDS` times, at once,
 * after a failure whose reason `resentByDefault` accepts. Only `Unavailable` (refused, reset, closed: nothing was
 * applied, or the connection broke under it); a `Timeout` is not, so that its deadline holds. Both Effect lines'
 * `defaultRetry` schedules and the facade's fast path follow it.
 */
export const DEFAULT_RESENDS = 1

/** @internal Whether the default retry sends a request again after a failure of `reason` (see `DEFAULT_RESENDS`). */
export const resentByDefault = (reason: FailureReason): boolean => reason === "Unavailable"

/** @internal A failed request. `server` is `host:port`, never a credential; nothing here holds a value or a password. */
export class EngineFailure {
  constructor(
    readonly reason: FailureReason,
    readonly server: string | undefined,
    readonly detail: string | undefined,
    /** What Node, memjs or framing reported, when the failure came from there. */
    readonly cause: unknown = undefined,
    /** The request was written on a live connection before it failed: the server may have applied it. */
    readonly mayHaveBeenApplied: boolean = false,
    /** The client was closed: sending the request again cannot succeed. */
    readonly closed: boolean = false
  ) {}

  /** The same failure, for a request that was written before it failed. */
  written(): EngineFailure {
    return new EngineFailure(this.reason, this.server, this.detail, this.cause, true, this.closed)
  }
}

/**
 * @internal A socket's failure that the dialer (`dial.ts`) recognised: its reason, and a sentence that says what
 * happened (a certificate rejected, a server that does not speak TLS, …); `original` is what Node reported.
 */
export class DialFailure extends Error {
  constructor(readonly reason: FailureReason, message: string, readonly original: unknown) {
    super(message)
  }
}

/**
 * @internal How an engine operation answers, exactly once: `done(context, result, report)`, where `context` is the
 * caller's own, passed with the call (a function made once and a context cost no closure per request), and `result`
 * the answer or an `EngineFailure`. `report` comes with a transport failure (refused, reset, closed, a missed
 * deadline, …): one such failure can end many requests, and `report` is their number on the first of them and 0 on
 * the others, so that a caller who logs failures logs each one once.
 */
export type Done<A, C> = (context: C, result: A | EngineFailure, report?: number) => void

/** @internal Maps whatever memjs, Node or framing reported for `server` to an `EngineFailure`. */
export const toEngineFailure = (cause: unknown, server: string): EngineFailure => {
  if (cause instanceof EngineFailure) return cause
  if (cause instanceof ProtocolViolation) return new EngineFailure("Protocol", server, cause.message)
  if (cause instanceof DialFailure) return new EngineFailure(cause.reason, server, cause.message, cause.original)
  if (cause instanceof ConnectionClosed) return new EngineFailure("Unavailable", server, cause.message)
  if (typeof cause === "string") {
    return cause.includes("authentication")
      ? new EngineFailure("Auth", server, "SASL authentication failed")
      : new EngineFailure("Protocol", server, cause)
  }
  const message = cause instanceof Error ? cause.message : String(cause)
  const code = typeof cause === "object" && cause !== null && "code" in cause ? String(cause.code) : undefined
  if (message.includes("timed out") || code === "ETIMEDOUT") return new EngineFailure("Timeout", server, message, cause)
  return new EngineFailure("Unavailable", server, code ?? (message || "connection failed"), cause)
}
