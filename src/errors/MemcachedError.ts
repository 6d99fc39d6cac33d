/** @since 1.0.0 */
import * as Schema from "effect/Schema"
import { textOf } from "../engine/text.js"

/**
 * The memcached transport failed: `Unavailable` (refused, reset, closed, no server), `Timeout` (no answer within the
 * operation's deadline), `Auth` (SASL rejected, or a TLS certificate rejected by either side) or `Protocol` (the
 * server answered with an unexpected status, or the TLS handshake failed, as with a server that does not speak TLS).
 * `server` is `host:port`, never a credential.
 *
 * @since 1.0.0
 * @category errors
 */
export class MemcachedError extends Schema.TaggedError<MemcachedError>("effect-memcached/MemcachedError")(
  "MemcachedError",
  {
    reason: Schema.Literal("Unavailable", "Timeout", "Auth", "Protocol"),
    server: Schema.optional(Schema.String),
    detail: Schema.optional(Schema.String),
    /**
     * Set on a failed `increment`, `decrement`, `add` or `replace` whose request may have reached the server: it may
     * or may not have been applied, and it was not sent again.
     */
    outcomeUnknown: Schema.optional(Schema.Boolean),
    cause: Schema.optional(Schema.Defect)
  }
) {
  /** Never throws: `server` and `detail` are kept as strings whatever they were given as. */
  constructor(props: {
    readonly reason: "Unavailable" | "Timeout" | "Auth" | "Protocol"
    readonly server?: string | undefined
    readonly detail?: string | undefined
    readonly outcomeUnknown?: boolean | undefined
    readonly cause?: unknown
  }) {
    super({
      reason: props.reason,
      ...(props.server === undefined ? {} : { server: textOf(props.server) }),
      ...(props.detail === undefined ? {} : { detail: textOf(props.detail) }),
      ...(props.outcomeUnknown === undefined ? {} : { outcomeUnknown: props.outcomeUnknown }),
      ...(props.cause === undefined ? {} : { cause: props.cause })
    }, true)
  }

  /** @since 1.0.0 */
  override get message() {
    return `memcached ${this.reason}${this.server ? ` at ${this.server}` : ""}${this.detail ? `: ${this.detail}` : ""}${
      this.outcomeUnknown ? " (the operation may or may not have been applied; it was not retried)" : ""
    }`
  }
}
