/** @since 2.0.0 */
import * as Schema from "effect/Schema"
import { textOf } from "../../../src/engine/text.js"

/**
 * The memcached transport failed: `Unavailable` (refused, reset, closed, no server), `Timeout` (no answer within the
 * operation's deadline), `Auth` (SASL rejected) or `Protocol` (the server answered with an unexpected status).
 * `server` is `host:port`, never a credential.
 *
 * @since 2.0.0
 * @category errors
 */
export class MemcachedError extends Schema.TaggedError<MemcachedError>("effect-memcached/MemcachedError")(
  "MemcachedError",
  {
    reason: Schema.Literals(["Unavailable", "Timeout", "Auth", "Protocol"]),
    server: Schema.optional(Schema.String),
    detail: Schema.optional(Schema.String),
    /**
     * Set on a failed `increment`, `decrement`, `add` or `replace` whose request may have reached the server: it may
     * or may not have been applied, and it was not sent again.
     */
    outcomeUnknown: Schema.optional(Schema.Boolean),
    cause: Schema.optional(Schema.Defect())
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
    }, { disableChecks: true })
  }

  /** The tag, as on the Effect 3 line (`Schema.TaggedError` would name it after the identifier). @since 2.0.0 */
  override get name() {
    return "MemcachedError"
  }

  /** @since 2.0.0 */
  override get message() {
    return `memcached ${this.reason}${this.server ? ` at ${this.server}` : ""}${this.detail ? `: ${this.detail}` : ""}${
      this.outcomeUnknown ? " (the operation may or may not have been applied; it was not retried)" : ""
    }`
  }
}
