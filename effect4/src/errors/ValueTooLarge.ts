/** @since 2.0.0 */
import * as Schema from "effect/Schema"
import { textOf } from "../../../src/engine/text.js"

/**
 * The encoded value does not fit in one memcached item (`size` bytes against a `limit` that already subtracts the
 * key and memcached's per-item overhead). Checked before sending; a server's own "too large" answer maps here too,
 * and memcached then drops the key's previous value.
 *
 * @since 2.0.0
 * @category errors
 */
export class ValueTooLarge extends Schema.TaggedError<ValueTooLarge>("effect-memcached/ValueTooLarge")(
  "ValueTooLarge",
  { key: Schema.String, size: Schema.Number, limit: Schema.Number }
) {
  /** Never throws: a key that is not a string is kept as its string form. */
  constructor(props: { readonly key: unknown; readonly size: number; readonly limit: number }) {
    super({ key: textOf(props.key), size: props.size, limit: props.limit }, { disableChecks: true })
  }

  /** The tag, as on the Effect 3 line (`Schema.TaggedError` would name it after the identifier). @since 2.0.0 */
  override get name() {
    return "ValueTooLarge"
  }

  /** @since 2.0.0 */
  override get message() {
    return `value for key ${JSON.stringify(this.key)} is ${this.size} bytes; the limit is ${this.limit}`
  }
}
