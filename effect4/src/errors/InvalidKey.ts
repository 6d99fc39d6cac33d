/** @since 2.0.0 */
import * as Schema from "effect/Schema"
import { textOf } from "../../../src/engine/text.js"

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
  /** Never throws: a key that is not a string is kept as its string form. */
  constructor(props: { readonly key: unknown; readonly reason: string }) {
    super({ key: textOf(props.key), reason: textOf(props.reason) }, { disableChecks: true })
  }

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
