/**
 * How the errors store what a caller gave them: a key that is not a string is kept as a safe string form, so that
 * building an error can never throw. The engine describes its problems the same way.
 *
 * @internal
 */
export { textOf } from "../engine/text.js"
