/** @since 1.0.0 */
import * as Schema from "effect/Schema"

/**
 * A value could not be encoded for storage, or stored bytes could not be decoded: another serializer wrote them,
 * they are corrupt, or they do not match the schema of a typed view.
 *
 * @since 1.0.0
 * @category errors
 */
export class SerializationError extends Schema.TaggedError<SerializationError>(
  "effect-memcached/SerializationError"
)(
  "SerializationError",
  {
    key: Schema.String,
    direction: Schema.Literal("encode", "decode"),
    cause: Schema.optional(Schema.Defect)
  }
) {
  /** @since 1.0.0 */
  override get message() {
    const detail = this.cause instanceof Error ? this.cause.message : typeof this.cause === "string" ? this.cause : ""
    return `cannot ${this.direction} the value of key ${JSON.stringify(this.key)}${detail ? `: ${detail}` : ""}`
  }
}
