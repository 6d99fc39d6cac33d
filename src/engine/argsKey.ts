/**
 * The cache key of a memoized call (`Cache.cached`) when its `key` option is a string: the string alone for a call
 * without arguments, else `<prefix>:<arguments>`, where the arguments are written as JSON with a few unambiguous
 * additions: object keys sorted (so `{a, b}` and `{b, a}` are one key), `1n` for a BigInt, `undefined`, `NaN`,
 * `Infinity`, `Date(<ms>)`, `Map{…}` and `Set[…]`; strings are always quoted, so no two different arguments share a
 * key. Whitespace, control characters and `%` are percent-encoded (memcached keys cannot hold them). Functions,
 * symbols and cycles have no key: they throw a `TypeError` (give a key function instead).
 *
 * @internal
 */

const unsafe = /[\s\p{Cc}%]/gu

const write = (value: unknown, seen: Set<object>): string => {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value)
    case "number":
      return Number.isFinite(value) ? JSON.stringify(value) : String(value)
    case "bigint":
      return `${value}n`
    case "boolean":
      return String(value)
    case "undefined":
      return "undefined"
    case "object": {
      if (value === null) return "null"
      if (seen.has(value)) throw new TypeError("cannot make a cache key of a cyclic argument; give a key function")
      seen.add(value)
      try {
        if (value instanceof Date) return `Date(${value.getTime()})`
        if (Array.isArray(value)) return `[${value.map((item) => write(item, seen)).join(",")}]`
        if (value instanceof Map) {
          return `Map{${Array.from(value, ([k, v]) => `${write(k, seen)}:${write(v, seen)}`).join(",")}}`
        }
        if (value instanceof Set) return `Set[${Array.from(value, (item) => write(item, seen)).join(",")}]`
        const toJSON = (value as { readonly toJSON?: unknown }).toJSON
        if (typeof toJSON === "function") return write(toJSON.call(value), seen)
        const record = value as Record<string, unknown>
        return `{${
          Object.keys(record).sort().map((key) => `${JSON.stringify(key)}:${write(record[key], seen)}`).join(",")
        }}`
      } finally {
        seen.delete(value)
      }
    }
    default:
      throw new TypeError(`cannot make a cache key of a ${typeof value} argument; give a key function`)
  }
}

/** @internal Throws a `TypeError` on arguments that have no key (functions, symbols, cycles). */
export const argsKey = (prefix: string, args: ReadonlyArray<unknown>): string => {
  if (args.length === 0) return prefix
  const text = write(args, new Set())
  return `${prefix}:${text.replace(unsafe, (char) => encodeURIComponent(char))}`
}
