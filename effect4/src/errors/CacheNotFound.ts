/** @since 2.0.0 */
import * as Schema from "effect/Schema"
import { textOf } from "../../../src/engine/text.js"

/**
 * A read that asked to fail on a miss found nothing: the key was never set, has expired or was evicted.
 *
 * @since 2.0.0
 * @category errors
 */
export class CacheNotFound extends Schema.TaggedError<CacheNotFound>("effect-memcached/CacheNotFound")(
  "CacheNotFound",
  { key: Schema.String }
) {
  /** Never throws: a key that is not a string is kept as its string form. */
  constructor(props: { readonly key: unknown }) {
    super({ key: textOf(props.key) }, { disableChecks: true })
  }

  /** The tag, as on the Effect 3 line (`Schema.TaggedError` would name it after the identifier). @since 2.0.0 */
  override get name() {
    return "CacheNotFound"
  }

  /** @since 2.0.0 */
  override get message() {
    return `cache key not found: ${JSON.stringify(this.key)}`
  }
}
