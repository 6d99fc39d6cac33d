/**
 * How a value a caller gave is shown in a description, and kept in an error of either Effect line (a key that is not a
 * string, say): as a string, never throwing, so that building an error can never throw.
 *
 * @internal
 */

/** @internal `value` itself if it is a string, else `String(value)`, else its `Object.prototype.toString` tag. */
export const textOf = (value: unknown): string => {
  if (typeof value === "string") return value
  try {
    return String(value)
  } catch {
    return Object.prototype.toString.call(value)
  }
}
