/** @since 2.0.0 */
import * as Schema from "effect/Schema"
import { textOf } from "../../../src/engine/text.js"

/**
 * An argument of an operation that it cannot use, such as a `ttl` given as a bare number (write `"300 seconds"` or
 * `Duration.seconds(300)`), or a counter delta below zero. `argument` names it (`ttl`, `lease.wait`, `delta`, …),
 * `reason` says what is wrong and how to write it, `key` is the operation's key when it has one. Nothing was sent.
 *
 * @since 2.0.0
 * @category errors
 */
export class InvalidArgument extends Schema.TaggedError<InvalidArgument>("effect-memcached/InvalidArgument")(
  "InvalidArgument",
  { argument: Schema.String, reason: Schema.String, key: Schema.optional(Schema.String) }
) {
  /** Never throws: a key that is not a string is kept as its string form. */
  constructor(
    props: { readonly argument: string; readonly reason: string; readonly key?: unknown }
  ) {
    super(
      props.key === undefined
        ? { argument: textOf(props.argument), reason: textOf(props.reason) }
        : { argument: textOf(props.argument), reason: textOf(props.reason), key: textOf(props.key) },
      { disableChecks: true }
    )
  }

  /** The tag, as on the Effect 3 line (`Schema.TaggedError` would name it after the identifier). @since 2.0.0 */
  override get name() {
    return "InvalidArgument"
  }

  /** @since 2.0.0 */
  override get message() {
    return `invalid ${this.argument}${
      this.key === undefined ? "" : ` for key ${JSON.stringify(this.key)}`
    }: ${this.reason}`
  }
}
