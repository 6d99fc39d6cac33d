/** @since 1.0.0 */
import * as Schema from "effect/Schema"

/**
 * A key that memcached cannot store: empty, not a string, over 250 UTF-8 bytes after the prefix (unless
 * `hashLongKeys`), or holding whitespace, control characters or lone surrogates. Nothing was sent.
 *
 * @since 1.0.0
 * @category errors
 */
export class InvalidKey extends Schema.TaggedError<InvalidKey>("effect-memcached/InvalidKey")(
  "InvalidKey",
  { key: Schema.String, reason: Schema.String }
) {
  /** @since 1.0.0 */
  override get message() {
    const shown = this.key.length > 60 ? `${JSON.stringify(this.key.slice(0, 60))}…` : JSON.stringify(this.key)
    return `invalid cache key ${shown}: ${this.reason}`
  }
}
