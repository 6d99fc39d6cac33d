/**
 * memcached's own operations on the bytes-level `Memcached` service: append and prepend (the right way round),
 * exact 64-bit counters, compare-and-set and the `update` read-modify-write loop, stats.
 *
 *   npx tsx examples/memcached-operations.ts                                # in-memory store
 *   MEMCACHED_SERVERS=127.0.0.1:11211 npx tsx examples/memcached-operations.ts
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Option } from "effect"
import { Memcached, MemcachedTest } from "../src/index.js"

const servers = process.env.MEMCACHED_SERVERS
const layer = servers ? Memcached.layer({ servers }) : MemcachedTest

const text = (item: Option.Option<{ readonly value: Uint8Array }>) =>
  Option.match(item, { onNone: () => "(missing)", onSome: ({ value }) => Buffer.from(value).toString("utf8") })

const program = Effect.gen(function*() {
  const memcached = yield* Memcached

  yield* memcached.set("example-ops:log", Buffer.from("B"))
  yield* memcached.append("example-ops:log", Buffer.from("C"))
  yield* memcached.prepend("example-ops:log", Buffer.from("A"))
  yield* Console.log("append C, prepend A to B ->", text(yield* memcached.get("example-ops:log")))

  yield* memcached.delete("example-ops:counter")
  const big = yield* memcached.increment("example-ops:counter", 1, { initial: 2n ** 32n - 1n })
  const bigger = yield* memcached.increment("example-ops:counter", 1)
  yield* Console.log("a counter past 2^32 ->", Option.getOrNull(big), "then", Option.getOrNull(bigger))

  yield* memcached.set("example-ops:doc", Buffer.from("v1"))
  const read = Option.getOrThrow(yield* memcached.getWithCas("example-ops:doc"))
  yield* memcached.set("example-ops:doc", Buffer.from("v2 (another writer)"))
  const stale = yield* memcached.compareAndSet("example-ops:doc", Buffer.from("v3"), read.cas)
  yield* Console.log("compareAndSet with a stale token stores nothing ->", stale)

  const addOne = (current: Option.Option<{ readonly value: Uint8Array; readonly flags: number }>) => ({
    value: Buffer.from(
      String(Option.match(current, { onNone: () => 0, onSome: (item) => Number(Buffer.from(item.value)) }) + 1)
    ),
    flags: 0
  })
  yield* memcached.delete("example-ops:visits")
  yield* Effect.all(
    Array.from({ length: 20 }, () => memcached.update("example-ops:visits", addOne, { attempts: 50 })),
    {
      concurrency: "unbounded"
    }
  )
  yield* Console.log("20 concurrent updates, none lost ->", text(yield* memcached.get("example-ops:visits")))

  for (const [server, stats] of yield* memcached.stats) {
    yield* Console.log(`stats of ${server}: ${stats.curr_items} items`)
  }
})

program.pipe(Effect.provide(layer), NodeRuntime.runMain)
