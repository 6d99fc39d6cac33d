/**
 * The engine (`src/engine/`) used as another Effect line would use it: plain callbacks and promises, no Effect,
 * against a real memcached (only the test harness that starts it runs on Effect). Reads and writes, batches,
 * counters, expiry, the failure values (refused, deadline, closed, too large) and the key and TTL rules.
 */
import { Effect } from "effect"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import type { EngineClient, EngineClientOptions } from "../src/engine/client.js"
import { makeEngineClient } from "../src/engine/client.js"
import type { Done } from "../src/engine/failure.js"
import { EngineFailure } from "../src/engine/failure.js"
import { CasItem, Item } from "../src/engine/item.js"
import { DEFAULT_MAX_ITEM_SIZE, maxValueBytes, TooLarge } from "../src/engine/itemSize.js"
import type { WireKey } from "../src/engine/keys.js"
import { KeyProblem, makeKeyEncoder } from "../src/engine/keys.js"
import { makeMemjsClient } from "../src/engine/memjs.js"
import { makeMemoryStore } from "../src/engine/memory.js"
import { ketama } from "../src/engine/placement.js"
import type { ServerAddress } from "../src/engine/servers.js"
import { BadServers, parseServers } from "../src/engine/servers.js"
import { expiryFromMillis, MAX_RELATIVE_SECONDS, toExpirationField } from "../src/engine/ttl.js"
import type { RunningServer } from "./support/MemcachedServer.js"
import { startMemcached } from "./support/MemcachedServer.js"
import { closedPort, silentServer } from "./support/network.js"
import { acquire } from "./support/plain.js"

const addressesOf = (servers: string): ReadonlyArray<ServerAddress> => {
  const parsed = parseServers(servers)
  if (parsed instanceof BadServers) throw new Error(parsed.reason)
  return parsed
}

const clients: Array<EngineClient> = []

/** An engine client over `servers`, closed after the file. */
const open = (servers: string, options: Partial<EngineClientOptions> = {}): EngineClient => {
  const addresses = addressesOf(servers)
  const deadlineMillis = options.deadlineMillis ?? 1000
  const client = makeEngineClient({
    client: makeMemjsClient(addresses, undefined, undefined, deadlineMillis),
    addresses,
    deadlineMillis,
    maxItemSize: DEFAULT_MAX_ITEM_SIZE,
    placement: ketama(addresses),
    ejection: { ejectAfter: 3, deadMillis: 1000 },
    failover: false,
    unrefIdle: true,
    ...options
  })
  clients.push(client)
  return client
}

/** Wire keys as a caller checks them, with the engine's rules and plain results. */
const wireKey = makeKeyEncoder<WireKey | KeyProblem>({ keyPrefix: "engine:" }, (wire) => wire, (problem) => problem)
const key = (text: string): WireKey => {
  const wire = wireKey(text)
  if (wire instanceof KeyProblem) throw new Error(wire.reason)
  return wire
}

interface Answer<A> {
  readonly result: A | EngineFailure
  readonly report: number | undefined
  /** What the call returned: the server of a request on one key. */
  readonly returned: unknown
}

let repeatedAnswers = 0
const CONTEXT = { caller: "test" }

/** Runs one engine operation: its answer, which must come once, with the context given. */
const ask = <A>(start: (done: Done<A, typeof CONTEXT>, context: typeof CONTEXT) => unknown) =>
  new Promise<Answer<A>>((resolve, reject) => {
    let answered = false
    let returned: unknown
    let answer: Omit<Answer<A>, "returned"> | undefined
    returned = start((context, result, report) => {
      if (answered) return void repeatedAnswers++
      answered = true
      if (context !== CONTEXT) return reject(new Error("the context did not come back"))
      answer = { result, report }
      // The call may answer before it returns (a refused request): resolve once both are in.
      queueMicrotask(() => resolve({ ...answer!, returned }))
    }, CONTEXT)
  })

/** The answer's value; a failure fails the test. */
const value = async <A>(start: (done: Done<A, typeof CONTEXT>, context: typeof CONTEXT) => unknown): Promise<A> => {
  const { result } = await ask(start)
  if (result instanceof EngineFailure) throw new Error(`${result.reason}: ${result.detail}`)
  return result
}

/** The answer's failure; a success fails the test. */
const failure = async <A>(start: (done: Done<A, typeof CONTEXT>, context: typeof CONTEXT) => unknown) => {
  const answer = await ask(start)
  expect(answer.result).toBeInstanceOf(EngineFailure)
  return { ...answer, failure: answer.result as EngineFailure }
}

const bytes = (text: string) => Buffer.from(text)
const never = expiryFromMillis(null)

let memcached: RunningServer
let releaseMemcached: () => Promise<void>
let client: EngineClient

beforeAll(async () => {
  const started = await acquire(startMemcached())
  memcached = started.value
  releaseMemcached = started.release
  client = open(memcached.address)
})

afterEach(() => {
  expect(repeatedAnswers).toBe(0)
})

afterAll(async () => {
  await Promise.all(clients.map((each) => each.close(100, true)))
  await releaseMemcached()
})

describe("the engine client against memcached", () => {
  it("sets, gets and deletes, with flags, and says which server each request went to", async () => {
    const k = key("round-trip")
    const stored = await ask<boolean | TooLarge>((done, context) =>
      client.write("set", k, new Item(bytes("value"), 42), never, undefined, done, context)
    )
    expect(stored.result).toBe(true)
    expect(stored.returned).toMatchObject({ host: memcached.host, port: memcached.port, label: memcached.address })
    const item = await value<Item | undefined>((done, context) => client.get(k, done, context))
    expect(item).toBeInstanceOf(Item)
    expect(Buffer.from(item!.value).toString()).toBe("value")
    expect(item!.flags).toBe(42)
    expect(await value<boolean>((done, context) => client.delete(k, done, context))).toBe(true)
    expect(await value<boolean>((done, context) => client.delete(k, done, context))).toBe(false)
    expect(await value<Item | undefined>((done, context) => client.get(k, done, context))).toBeUndefined()
  })

  it("add, replace and compare-and-set say whether they stored", async () => {
    const k = key("modes")
    const write = (mode: "set" | "add" | "replace", text: string, cas?: bigint) =>
      value<boolean | TooLarge>((done, context) =>
        client.write(mode, k, new Item(bytes(text), 0), never, cas, done, context)
      )
    expect(await write("replace", "r")).toBe(false)
    expect(await write("add", "a")).toBe(true)
    expect(await write("add", "again")).toBe(false)
    const read = await value<CasItem | undefined>((done, context) => client.getWithCas(k, done, context))
    expect(read).toBeInstanceOf(CasItem)
    expect(await write("set", "changed", read!.cas)).toBe(true)
    expect(await write("set", "stale", read!.cas)).toBe(false)
    expect(await write("replace", "replaced")).toBe(true)
    const appended = await value<boolean | TooLarge>((done, context) =>
      client.concat("prepend", k, bytes(">"), done, context)
    )
    expect(appended).toBe(true)
    const item = await value<Item | undefined>((done, context) => client.get(k, done, context))
    expect(Buffer.from(item!.value).toString()).toBe(">replaced")
  })

  it("batches: writeMany, then getMany in key order (misses undefined), then deleteMany counts what existed", async () => {
    // ASCII keys short and long (past 48 bytes, compared otherwise), and UTF-8 ones, framed in one batch.
    const keys = Array.from({ length: 40 }, (_, i) => key(`batch-${i % 3 === 0 ? "é" : ""}${"-".repeat(i * 3)}${i}`))
    const entries = keys.slice(0, 30).map((k, i) => [k, new Item(bytes(`v${i}`), i)] as const)
    expect(await value<undefined | TooLarge>((done, context) => client.writeMany(entries, never, done, context)))
      .toBeUndefined()
    const found = await value<Array<Item | undefined>>((done, context) => client.getMany(keys, done, context))
    expect(found).toHaveLength(40)
    found.forEach((item, i) => {
      if (i >= 30) return expect(item).toBeUndefined()
      expect(Buffer.from(item!.value).toString()).toBe(`v${i}`)
      expect(item!.flags).toBe(i)
    })
    expect(await value<number>((done, context) => client.deleteMany(keys.slice(20), done, context))).toBe(10)
    expect(await value<Array<Item | undefined>>((done, context) => client.getMany([], done, context))).toEqual([])
  })

  it("mid-size writes joined into one recycled buffer with a getMany: read back intact over five rounds", async () => {
    // Five sets of 10 KiB and a batch leave in one write of about 52 KiB (joined: under 64 KiB); each round reuses
    // the buffers the last round handed back.
    const keys = Array.from({ length: 5 }, (_, i) => key(`mid-${i}`))
    for (let round = 0; round < 5; round++) {
      const text = (i: number) => `${round}:${i}:`.padEnd(10_240, String.fromCharCode(97 + ((round + i) % 26)))
      const [stored, found] = await Promise.all([
        Promise.all(
          keys.map((k, i) =>
            value<boolean | TooLarge>((done, context) =>
              client.write("set", k, new Item(bytes(text(i)), round), never, undefined, done, context)
            )
          )
        ),
        value<Array<Item | undefined>>((done, context) => client.getMany(keys, done, context))
      ])
      expect(stored).toEqual(keys.map(() => true))
      // memcached applies a connection's requests in order: the batch, written after the sets, reads what they stored.
      found.forEach((item, i) => {
        expect(Buffer.from(item!.value).toString()).toBe(text(i))
        expect(item!.flags).toBe(round)
      })
    }
  })

  it("answers kept past later reads stay intact: every socket reads into one buffer, lent to framing", async () => {
    // 300 values, from 20 B to 20 KiB: many whole frames per read, and frames spread over reads. The first round's
    // items are kept as they came (views, not copies) while a second round reads other values through the same buffer.
    const content = (round: number, i: number) =>
      Buffer.alloc(20 + ((i * 997) % 20_000), `${round}:${i}:${String.fromCharCode(97 + (i % 26))}`)
    const keys = (round: number) => Array.from({ length: 300 }, (_, i) => key(`lent-${round}-${i}`))
    const read = async (round: number) => {
      const ks = keys(round)
      await Promise.all(
        ks.map((k, i) =>
          value<boolean | TooLarge>((done, context) =>
            client.write("set", k, new Item(content(round, i), i), never, undefined, done, context)
          )
        )
      )
      const [singles, batch] = await Promise.all([
        Promise.all(ks.map((k) => value<Item | undefined>((done, context) => client.get(k, done, context)))),
        value<Array<Item | undefined>>((done, context) => client.getMany(ks, done, context))
      ])
      return { singles, batch }
    }
    const first = await read(1)
    await read(2)
    for (const items of [first.singles, first.batch]) {
      items.forEach((item, i) => {
        expect(Buffer.compare(Buffer.from(item!.value), content(1, i))).toBe(0)
        expect(item!.flags).toBe(i)
      })
    }
  })

  it("counters are exact past 2^32; a missing key is created from initial, or stays missing", async () => {
    const k = key("counter")
    await value((done, context) =>
      client.write("set", k, new Item(bytes("4294967295"), 0), never, undefined, done, context)
    )
    const next = await value<bigint | undefined>((done, context) =>
      client.counter("increment", k, 1n, undefined, never, done, context)
    )
    expect(next).toBe(4294967296n)
    const missing = key("counter-missing")
    expect(
      await value<bigint | undefined>((done, context) =>
        client.counter("decrement", missing, 1n, undefined, never, done, context)
      )
    ).toBeUndefined()
    expect(
      await value<bigint | undefined>((done, context) =>
        client.counter("increment", missing, 5n, 7n, never, done, context)
      )
    ).toBe(7n)
  })

  it("expiry: zero expires at once; touch and getAndTouch answer whether the key existed", async () => {
    const k = key("expiry")
    await value((done, context) =>
      client.write("set", k, new Item(bytes("gone"), 0), expiryFromMillis(0), undefined, done, context)
    )
    expect(await value<Item | undefined>((done, context) => client.get(k, done, context))).toBeUndefined()
    await value((done, context) => client.write("set", k, new Item(bytes("kept"), 0), never, undefined, done, context))
    const longer = expiryFromMillis(31 * 24 * 3600 * 1000) // sent as an absolute time
    expect(await value<boolean>((done, context) => client.touch(k, longer, done, context))).toBe(true)
    const read = await value<Item | undefined>((done, context) => client.getAndTouch(k, longer, done, context))
    expect(Buffer.from(read!.value).toString()).toBe("kept")
    expect(await value<boolean>((done, context) => client.touch(key("expiry-missing"), never, done, context))).toBe(
      false
    )
  })

  it("version, stats and flush answer per server", async () => {
    const versions = await value<ReadonlyMap<string, string>>((done, context) => client.version(done, context))
    expect([...versions.keys()]).toEqual([memcached.address])
    expect(versions.get(memcached.address)).toMatch(/^\d+\.\d+\.\d+/)
    const stats = await value<ReadonlyMap<string, Readonly<Record<string, string>>>>((done, context) =>
      client.stats(done, context)
    )
    expect(Number(stats.get(memcached.address)?.pid)).toBe(memcached.pid)
    const other = open(memcached.address)
    const k = key("flushed")
    await value((done, context) => other.write("set", k, new Item(bytes("x"), 0), never, undefined, done, context))
    expect(await value<undefined>((done, context) => other.flush(done, context))).toBeUndefined()
    expect(await value<Item | undefined>((done, context) => other.get(k, done, context))).toBeUndefined()
  })

  it("a value the server finds too large is a TooLarge, not a failure", async () => {
    const lenient = open(memcached.address, { maxItemSize: 4 * 1024 * 1024 })
    const k = key("too-large")
    const size = 2 * 1024 * 1024
    const answer = await value<boolean | TooLarge>((done, context) =>
      lenient.write("set", k, new Item(Buffer.alloc(size), 0), never, undefined, done, context)
    )
    expect(answer).toEqual(new TooLarge(k.key, size, maxValueBytes(4 * 1024 * 1024, k.bytes.length)))
    expect(await value<Item | undefined>((done, context) => lenient.get(k, done, context))).toBeUndefined()
  })
})

describe("the engine's failures", () => {
  it("a refused connection: Unavailable at that server, not applied, reported once", async () => {
    const port = await Effect.runPromise(closedPort)
    const refused = open(`127.0.0.1:${port}`)
    const { failure: refusal, report } = await failure<Item | undefined>((done, context) =>
      refused.get(key("refused"), done, context)
    )
    expect(refusal).toMatchObject({
      reason: "Unavailable",
      server: `127.0.0.1:${port}`,
      detail: "ECONNREFUSED",
      mayHaveBeenApplied: false,
      closed: false
    })
    expect(report).toBe(1)
  })

  it("no answer within the deadline: Timeout for every request in flight, which may have been applied", async () => {
    const { release, value: silent } = await acquire(silentServer)
    try {
      const slow = open(silent.address, { deadlineMillis: 200 })
      const answers = await Promise.all(
        [1, 2, 3].map((i) => failure<Item | undefined>((done, context) => slow.get(key(`late-${i}`), done, context)))
      )
      for (const { failure: late } of answers) {
        expect(late).toMatchObject({ reason: "Timeout", server: silent.address, mayHaveBeenApplied: true })
      }
      expect(answers.map(({ report }) => report)).toEqual([3, 0, 0])
    } finally {
      await release()
    }
  })

  it("an answer that came while the event loop was blocked past the deadline is read, not failed as Timeout", async () => {
    const blocked = open(memcached.address, { deadlineMillis: 100 })
    await value<boolean | TooLarge>((done, context) =>
      blocked.write("set", key("blocked"), new Item(bytes("in time"), 0), never, undefined, done, context)
    )
    const answer = value<Item | undefined>((done, context) => blocked.get(key("blocked"), done, context))
    // The get is on the wire once the microtasks queued before this one ran. Then this task holds the loop for three
    // deadlines while memcached answers; when the loop turns again, it runs its due timers before it reads sockets.
    await Promise.resolve()
    const until = performance.now() + 300
    while (performance.now() < until) {
      // a synchronous task holding the loop, as a loaded machine or a long computation does
    }
    expect(Buffer.from((await answer)!.value).toString()).toBe("in time")
  })

  it("after close: Unavailable and closed, without a request sent", async () => {
    const closing = open(memcached.address)
    await closing.close(100, true)
    const { failure: closed, returned } = await failure<Item | undefined>((done, context) =>
      closing.get(key("closed"), done, context)
    )
    expect(closed).toMatchObject({ reason: "Unavailable", closed: true })
    expect(returned).toMatchObject({ label: memcached.address })
  })
})

describe("the engine's rules", () => {
  it("keys are checked by their UTF-8 bytes after the prefix; long ones are hashed when asked", () => {
    const plain = makeKeyEncoder<WireKey | KeyProblem>({}, (wire) => wire, (problem) => problem)
    expect(plain("a".repeat(250))).toMatchObject({ text: "a".repeat(250) })
    expect(plain("a".repeat(251))).toEqual(new KeyProblem("a".repeat(251), "is 251 UTF-8 bytes; memcached allows 250"))
    expect(plain("€".repeat(84))).toBeInstanceOf(KeyProblem) // 84 characters, 252 bytes
    expect(plain("")).toEqual(new KeyProblem("", "is empty"))
    expect(plain("has space")).toBeInstanceOf(KeyProblem)
    expect(plain("k\ud800")).toBeInstanceOf(KeyProblem)
    expect(plain(42)).toEqual(new KeyProblem(42, "must be a string, got number"))
    expect(wireKey("a".repeat(244))).toBeInstanceOf(KeyProblem) // 7 bytes of prefix
    const hashed = makeKeyEncoder<WireKey | KeyProblem>(
      { keyPrefix: "p:", hashLongKeys: true },
      (wire) => wire,
      (problem) => problem
    )("x".repeat(300))
    expect(hashed).toMatchObject({ key: "x".repeat(300), text: expect.stringMatching(/^p:#[0-9a-f]{64}$/) })
  })

  it("TTLs: null and infinity never expire, zero or less expires at once, the rest rounds up to seconds", () => {
    expect(expiryFromMillis(null)).toEqual({ _tag: "Never" })
    expect(expiryFromMillis(Infinity)).toEqual({ _tag: "Never" })
    expect(expiryFromMillis(0)).toEqual({ _tag: "Expired" })
    expect(expiryFromMillis(-5)).toEqual({ _tag: "Expired" })
    expect(expiryFromMillis(NaN)).toEqual({ _tag: "Expired" })
    expect(expiryFromMillis(1)).toEqual({ _tag: "After", seconds: 1 })
    expect(expiryFromMillis(1500)).toEqual({ _tag: "After", seconds: 2 })
    const now = 1_700_000_000_000
    expect(toExpirationField(expiryFromMillis(MAX_RELATIVE_SECONDS * 1000), now)).toBe(MAX_RELATIVE_SECONDS)
    expect(toExpirationField(expiryFromMillis((MAX_RELATIVE_SECONDS + 1) * 1000), now))
      .toBe(now / 1000 + MAX_RELATIVE_SECONDS + 1)
  })

  it("servers: a bad list is a BadServers that says why", () => {
    expect(addressesOf("a:1,[::1]:2:3")).toEqual([
      { host: "a", port: 1, weight: 1, label: "a:1" },
      { host: "::1", port: 2, weight: 3, label: "[::1]:2" }
    ])
    expect(parseServers("user:pw@host:11211")).toBeInstanceOf(BadServers)
    expect(parseServers("a:1,a:1")).toEqual(new BadServers("server a:1 is listed twice"))
  })

  it("the memory store keeps memcached's semantics at the time it is given", () => {
    const memory = makeMemoryStore(DEFAULT_MAX_ITEM_SIZE)
    const k = key("memory")
    const now = 1_700_000_000_400
    expect(memory.write("set", k, new Item(bytes("v"), 3), expiryFromMillis(1000), now)).toBe(true)
    expect(memory.get(k, now + 599)).toEqual(new Item(bytes("v"), 3))
    expect(memory.get(k, now + 600)).toBeUndefined() // whole seconds, as memcached's clock
    const counter = key("memory-counter")
    expect(memory.counter("increment", counter, 1n, undefined, never, now)).toBeUndefined()
    expect(memory.counter("increment", counter, 1n, 0n, never, now)).toBe(0n)
    expect(memory.counter("increment", counter, 2n ** 64n - 1n, undefined, never, now)).toBe(2n ** 64n - 1n)
    expect(memory.counter("increment", counter, 1n, undefined, never, now)).toBe(0n)
    memory.write("set", counter, new Item(bytes("text"), 0), never, now)
    expect(memory.counter("decrement", counter, 1n, undefined, never, now)).toMatchObject({ reason: "Protocol" })
  })
})
