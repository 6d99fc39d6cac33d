/**
 * A deliberately tiny memcached ASCII (text) protocol client over `node:net`.
 *
 * It exists to show what a client in another language would see on the wire,
 * independently of memjs (which speaks the binary protocol). Every call opens a
 * fresh connection, dies after 2 s (live clock, so TestClock does not matter)
 * and always closes its socket, including on interruption.
 */
import { Clock, Duration, Effect, Option } from "effect"
import * as net from "node:net"

const TIMEOUT = Duration.seconds(2)
const CRLF = Buffer.from("\r\n")
const END = Buffer.from("END\r\n")
const liveClock = Clock.make()

/** What a response parser says about the bytes received so far. */
type Parse<A> =
  | { readonly _tag: "More" }
  | { readonly _tag: "Done"; readonly value: A }
  | { readonly _tag: "Error"; readonly message: string }

const more: Parse<never> = { _tag: "More" }

const parseAddress = (address: string): { host: string; port: number } => {
  const i = address.lastIndexOf(":")
  const port = Number(address.slice(i + 1))
  if (i <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new Error(`invalid memcached address: ${JSON.stringify(address)}`)
  }
  return { host: address.slice(0, i).replace(/^\[(.*)\]$/, "$1"), port }
}

/** Returns the first complete line (without CRLF) if it is an error reply. */
const errorLine = (buf: Buffer): string | undefined => {
  const eol = buf.indexOf(CRLF)
  if (eol < 0) return undefined
  const line = buf.subarray(0, eol).toString("latin1")
  return /^(ERROR|CLIENT_ERROR|SERVER_ERROR)\b/.test(line) ? line : undefined
}

/**
 * Opens a connection, writes `request`, feeds every received chunk (accumulated)
 * to `parse` until it is done, then closes the connection.
 */
const exchange = <A>(address: string, request: Buffer, parse: (received: Buffer) => Parse<A>): Effect.Effect<A> =>
  Effect.suspend(() => {
    const { host, port } = parseAddress(address)
    return Effect.async<A, Error>((resume) => {
      let received: Buffer = Buffer.alloc(0)
      let settled = false
      const socket = net.connect({ host, port })
      const settle = (effect: Effect.Effect<A, Error>) => {
        if (settled) return
        settled = true
        socket.destroy()
        resume(effect)
      }
      socket.once("connect", () => socket.write(request))
      socket.on("data", (chunk: Buffer) => {
        received = received.length === 0 ? chunk : Buffer.concat([received, chunk])
        const result = parse(received)
        if (result._tag === "Done") settle(Effect.succeed(result.value))
        else if (result._tag === "Error") settle(Effect.fail(new Error(`memcached ${address}: ${result.message}`)))
      })
      socket.once("error", (err) => settle(Effect.fail(new Error(`memcached ${address}: ${err.message}`))))
      socket.once("close", () =>
        settle(
          Effect.fail(
            new Error(
              `memcached ${address}: connection closed before a complete response ` +
                `(${received.length} bytes received)`
            )
          )
        ))
      // Interruption (e.g. an outer, shorter timeout) closes the socket too.
      return Effect.sync(() => {
        settled = true
        socket.destroy()
      })
    })
  }).pipe(
    Effect.timeoutFail({
      duration: TIMEOUT,
      onTimeout: () => new Error(`memcached ${address}: no complete response within 2 s`)
    }),
    Effect.withClock(liveClock),
    Effect.orDie
  )

/** Parses `VALUE <key> <flags> <bytes>[ <cas>]\r\n<data>\r\nEND\r\n` or `END\r\n`. */
const parseGet = (key: string) => (buf: Buffer): Parse<Option.Option<{ flags: number; bytes: Buffer }>> => {
  if (buf.length >= END.length && buf.subarray(0, END.length).equals(END)) {
    return { _tag: "Done", value: Option.none() }
  }
  const error = errorLine(buf)
  if (error !== undefined) return { _tag: "Error", message: error }
  const eol = buf.indexOf(CRLF)
  if (eol < 0) return more
  const header = buf.subarray(0, eol).toString("latin1").split(" ")
  if (header[0] !== "VALUE" || header.length < 4) {
    return { _tag: "Error", message: `unexpected reply line: ${JSON.stringify(header.join(" "))}` }
  }
  if (header[1] !== key) return { _tag: "Error", message: `reply for key ${header[1]}, expected ${key}` }
  const flags = Number(header[2])
  const length = Number(header[3])
  const dataStart = eol + 2
  const total = dataStart + length + CRLF.length + END.length
  if (buf.length < total) return more
  const trailer = buf.subarray(dataStart + length)
  if (!trailer.subarray(0, 2).equals(CRLF) || !trailer.subarray(2, 2 + END.length).equals(END)) {
    return { _tag: "Error", message: "malformed VALUE trailer (expected \\r\\nEND\\r\\n)" }
  }
  return {
    _tag: "Done",
    value: Option.some({ flags, bytes: Buffer.from(buf.subarray(dataStart, dataStart + length)) })
  }
}

/**
 * `get <key>` over the ASCII protocol: `Some({ flags, bytes })` on a hit,
 * `None` on a miss. Dies on protocol errors, connection errors or after 2 s.
 */
export const asciiGet = (
  address: string,
  key: string
): Effect.Effect<Option.Option<{ flags: number; bytes: Buffer }>> =>
  exchange(address, Buffer.from(`get ${key}\r\n`, "latin1"), parseGet(key))

/**
 * `set <key> <flags> <exptime> <bytes>` over the ASCII protocol; succeeds only
 * on `STORED`. Strings are sent as UTF-8.
 */
export const asciiSet = (
  address: string,
  key: string,
  flags: number,
  bytes: Buffer | string,
  exptime = 0
): Effect.Effect<void> => {
  const data = typeof bytes === "string" ? Buffer.from(bytes, "utf8") : bytes
  const request = Buffer.concat([
    Buffer.from(`set ${key} ${flags} ${exptime} ${data.length}\r\n`, "latin1"),
    data,
    CRLF
  ])
  return exchange(address, request, (buf): Parse<void> => {
    const eol = buf.indexOf(CRLF)
    if (eol < 0) return more
    const line = buf.subarray(0, eol).toString("latin1")
    return line === "STORED" ? { _tag: "Done", value: undefined } : { _tag: "Error", message: `set ${key}: ${line}` }
  })
}

/**
 * A one-line command over the ASCII protocol (`incr <key> <n>`, `decr <key> <n>`, …): its first reply line, whatever
 * it says.
 */
export const asciiLine = (address: string, command: string): Effect.Effect<string> =>
  exchange(address, Buffer.from(`${command}\r\n`, "latin1"), (buf): Parse<string> => {
    const eol = buf.indexOf(CRLF)
    return eol < 0 ? more : { _tag: "Done", value: buf.subarray(0, eol).toString("latin1") }
  })

/** `stats` over the ASCII protocol: every `STAT <name> <value>` line until `END`. */
export const asciiStats = (address: string): Effect.Effect<Record<string, string>> =>
  exchange(address, Buffer.from("stats\r\n", "latin1"), (buf): Parse<Record<string, string>> => {
    const error = errorLine(buf)
    if (error !== undefined) return { _tag: "Error", message: error }
    const text = buf.toString("latin1")
    if (!(text === "END\r\n" || text.endsWith("\r\nEND\r\n"))) return more
    const stats: Record<string, string> = {}
    for (const line of text.split("\r\n")) {
      if (!line.startsWith("STAT ")) continue
      const rest = line.slice(5)
      const space = rest.indexOf(" ")
      if (space < 0) stats[rest] = ""
      else stats[rest.slice(0, space)] = rest.slice(space + 1)
    }
    return { _tag: "Done", value: stats }
  })
