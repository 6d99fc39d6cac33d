/** @since 1.0.0 */
import * as Schema from "effect/Schema"
import { textOf } from "../engine/text.js"

/**
 * A read that asked to fail on a miss found nothing: the key was never set, has expired or was evicted.
 *
 * @since 1.0.0
 * @category errors
 */
export class CacheNotFound extends Schema.TaggedError<CacheNotFound>("effect-memcached/CacheNotFound")(
  "CacheNotFound",
  { key: Schema.String }
) {
  /** Never throws: a key that is not a string is kept as its string form. */
  constructor(props: { readonly key: unknown }) {
    super({ key: textOf(props.key) }, true)
  }

  /** @since 1.0.0 */
  override get message() {
    return `cache key not found: ${JSON.stringify(this.key)}`
  }
}
