// What the Effect 4 line exports with every build: the errors and the Serializer, from the installed tarball on the
// user's effect 4. Values go through the serializers into a real memcached (its text protocol over node:net, so this
// program needs nothing but the package) and back, flags included; a value read by the wrong serializer is a typed
// SerializationError; the errors are tagged classes that Effect 4's catchTag and Schema know.
import { Effect, Schema } from "effect"
import type { Item } from "effect-memcached"
import { CacheNotFound, Flags, InvalidKey, MemcachedError, SerializationError, Serializer } from "effect-memcached"
import * as Errors from "effect-memcached/errors"
import { Serializer as SerializerModule } from "effect-memcached/Serializer"
import * as Net from "node:net"
import { isDeepStrictEqual } from "node:util"

const servers = process.env.MEMCACHED_SERVERS
if (!servers) throw new Error("set MEMCACHED_SERVERS")
const [host = "127.0.0.1", port = "11211"] = servers.split(":")

// set then get one key with memcached's text protocol; answers the item memcached returns.
const storeAndRead = (key: string, item: Item) =>
  new Promise<Item>((resolve, reject) => {
    const socket = Net.connect(Number(port), host)
    let answer = Buffer.alloc(0)
    socket.on("error", reject)
    socket.on("data", (chunk) => {
      answer = Buffer.concat([answer, chunk])
      if (!answer.subarray(-5).equals(Buffer.from("END\r\n"))) return
      socket.end()
      const header = answer.indexOf("\r\n", 8)
      const [stored, , , flags, length] = answer.subarray(0, header).toString().split(/\s+/)
      if (stored !== "STORED") return reject(new Error(`memcached answered ${answer.toString()}`))
      resolve({ value: answer.subarray(header + 2, header + 2 + Number(length)), flags: Number(flags) })
    })
    const value = Buffer.from(item.value)
    socket.write(`set ${key} ${item.flags} 60 ${value.length}\r\n`)
    socket.write(Buffer.concat([value, Buffer.from(`\r\nget ${key}\r\n`)]))
  })

const through = (key: string, value: unknown) =>
  Effect.gen(function*() {
    const serializer = yield* Serializer
    const item = yield* serializer.encode(key, value)
    const stored = yield* Effect.promise(() => storeAndRead(key, item))
    if (stored.flags !== item.flags) throw new Error(`flags ${item.flags} came back as ${stored.flags}`)
    return { item: stored, value: yield* serializer.decode(key, stored) }
  })

const structured = { at: new Date(0), tags: new Set(["a"]), counts: new Map([["k", 1n]]) }
const program = Effect.gen(function*() {
  const a = yield* through("pack-check-v4:structured", structured).pipe(Effect.provide(Serializer.structured))
  const b = yield* through("pack-check-v4:json", { name: "Ada", n: 1 }).pipe(Effect.provide(Serializer.json))
  const misread = yield* Effect.flip(
    Effect.flatMap(Serializer, (json) => json.decode("pack-check-v4:structured", a.item)).pipe(
      Effect.provide(Serializer.json)
    )
  )
  const caught = yield* Effect.fail(new CacheNotFound({ key: "k" })).pipe(
    Effect.catchTag("CacheNotFound", (error) => Effect.succeed(error.key))
  )
  return { a, b, misread, caught }
})

const { a, b, misread, caught } = await Effect.runPromise(program)
const check = (ok: boolean, what: string) => {
  if (!ok) throw new Error(`basic program: ${what}`)
}
check(isDeepStrictEqual(a.value, structured) && a.item.flags === Flags.structured, "structured round trip")
check(isDeepStrictEqual(b.value, { name: "Ada", n: 1 }) && b.item.flags === Flags.json, "json round trip")
check(misread instanceof SerializationError && misread.direction === "decode", "a misread is a SerializationError")
check(caught === "k" && Errors.CacheNotFound === CacheNotFound && SerializerModule === Serializer, "subpaths")
check(Schema.is(InvalidKey)(new InvalidKey({ key: "a b", reason: "whitespace" })), "errors are Schema classes")
check(new MemcachedError({ reason: "Timeout", server: servers }).message.includes(servers), "error messages")
console.log(`basic program: ok (errors, Serializer, real memcached at ${servers}, node ${process.version})`)
