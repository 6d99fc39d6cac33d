/** @since 2.0.0 */
import * as Schema from "effect/Schema"
import { textOf } from "../../../src/engine/text.js"

/**
 * A value could not be encoded for storage, or stored bytes could not be decoded: another serializer wrote them,
 * they are corrupt, or they do not match the schema of a typed view.
 *
 * @since 2.0.0
 * @category errors
 */
export class SerializationError extends Schema.TaggedError<SerializationError>(
  "effect-memcached/SerializationError"
)(
  "SerializationError",
  {
    key: Schema.String,
    direction: Schema.Literals(["encode", "decode"]),
    cause: Schema.optional(Schema.Defect())
  }
) {
  /** Never throws: a key that is not a string is kept as its string form. */
  constructor(props: {
    readonly key: unknown
    readonly direction: "encode" | "decode"
    readonly cause?: unknown
  }) {
    super({
      key: textOf(props.key),
      direction: props.direction,
      ...(props.cause === undefined ? {} : { cause: props.cause })
    }, { disableChecks: true })
  }

  /** The tag, as on the Effect 3 line (`Schema.TaggedError` would name it after the identifier). @since 2.0.0 */
  override get name() {
    return "SerializationError"
  }

  /** @since 2.0.0 */
  override get message() {
    const detail = this.cause instanceof Error ? this.cause.message : typeof this.cause === "string" ? this.cause : ""
    return `cannot ${this.direction} the value of key ${JSON.stringify(this.key)}${detail ? `: ${detail}` : ""}`
  }
}
