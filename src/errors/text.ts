/**
 * How the errors store what a caller gave them: a key that is not a string is kept as a safe string form, so that
 * building an error can never throw.
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
