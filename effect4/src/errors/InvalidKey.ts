/** @since 2.0.0 */
import * as Schema from "effect/Schema"

/**
 * A key that memcached cannot store: empty, not a string, over 250 UTF-8 bytes after the prefix (unless
 * `hashLongKeys`), or holding whitespace, control characters or lone surrogates. Nothing was sent.
 *
 * @since 2.0.0
 * @category errors
 */
export class InvalidKey extends Schema.TaggedError<InvalidKey>("effect-memcached/InvalidKey")(
  "InvalidKey",
  { key: Schema.String, reason: Schema.String }
) {
  /** The tag, as on the Effect 3 line (`Schema.TaggedError` would name it after the identifier). @since 2.0.0 */
  override get name() {
    return "InvalidKey"
  }

  /** @since 2.0.0 */
  override get message() {
    const shown = this.key.length > 60 ? `${JSON.stringify(this.key.slice(0, 60))}…` : JSON.stringify(this.key)
    return `invalid cache key ${shown}: ${this.reason}`
  }
}
