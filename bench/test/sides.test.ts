import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { existsSync, readdirSync } from "node:fs"
import { type Contestant, openContestant, type SideOptions, withDeadlines } from "../support/contestant.js"
import { DEFAULTS, type Library, loadLibrary, serializerNames } from "../support/library.js"
import { type BenchServer, startMemcached } from "../support/memcached.js"
import { spawnContestant } from "../support/remote.js"
import type { SideId } from "../support/sides.js"
import { makeCertificate } from "../support/tls.js"
import { flushSpans } from "../support/tracing.js"

const assertRejects = async (promise: Promise<unknown>, pattern: RegExp) => {
  const error = await promise.then(() => undefined, (error: unknown) => error)
  assert.instanceOf(error, Error)
  assert.match((error as Error).message, pattern)
}

/**
 * Every side against a real memcached: each writes its own keys with its own client and serializer and reads them back
 * (`openContestant` fails otherwise), then runs a slice. `npm run bench -- --serializer=structured` used to fail with
 * SerializationError: every side read keys that raw memjs had written.
 */
let server: BenchServer
const library = (): Promise<Library> => loadLibrary(true, () => {})

beforeAll(async () => {
  server = await startMemcached({ memoryMb: 256 })
})
afterAll(() => server?.stop())

const options = (serializer: string): SideOptions => ({
  address: server.address,
  serializer,
  buffers: false,
  keys: 200
})

/** Runs one short slice of get-c16 and one of set-c16; returns their operation counts and the get's report. */
const exercise = async (contestant: Contestant) => {
  await contestant.begin("get-c16")
  await contestant.reset()
  const get = await contestant.slice(30)
  const report = await contestant.report()
  await contestant.end()
  await contestant.begin("set-c16")
  const set = await contestant.slice(30)
  await contestant.end()
  await contestant.begin("getmany-100")
  const getMany = await contestant.slice(30)
  const afterGetMany = await contestant.report()
  await contestant.end()
  return { get, set, getMany, report, afterGetMany }
}

/** Opens side `id`, which writes its keys and reads one back, then runs gets, sets and getManys without a miss. */
const readsBack = async (id: SideId, sideOptions: SideOptions) => {
  const contestant = await openContestant(library, id, sideOptions, false)
  try {
    const { get, set, getMany, afterGetMany } = await exercise(contestant)
    assert.isAbove(get.ops, 0, id)
    assert.isAbove(set.ops, 0, id)
    assert.isAbove(getMany.ops, 0, id)
    assert.strictEqual(afterGetMany.misses, 0, id)
  } finally {
    await contestant.close()
  }
}

describe("bench sides", () => {
  it("every serializer of the library is known to the bench", async () => {
    const names = serializerNames(await library())
    for (const name of ["bytes", "raw", "json", "structured"]) assert.include(names, name)
  })

  for (const serializer of [DEFAULTS, "bytes", "raw", "json", "structured"]) {
    it(`our sides read back what they wrote with serializer ${serializer}`, async () => {
      for (const id of ["cache", "cache-rp", "facade"] as const) await readsBack(id, options(serializer))
    })
  }

  it("the peers and the defaults side read back what they wrote, beside sides with another serializer", async () => {
    const opened: Array<Contestant> = []
    try {
      // Opened in turn on one server: each reads only its own keys, whatever the others wrote.
      opened.push(await openContestant(library, "cache", options("structured"), false))
      for (const id of ["memjs", "memjs-aa", "memcache-client", "memcache", "defaults"] as const) {
        opened.push(await openContestant(library, id, options("bytes"), false))
      }
      for (const contestant of opened) {
        const { get, report, getMany, afterGetMany } = await exercise(contestant)
        assert.isAbove(get.ops, 0, contestant.label)
        assert.isAbove(getMany.ops, 0, contestant.label)
        assert.strictEqual(report.misses + afterGetMany.misses, 0, contestant.label)
        assert.isUndefined(report.spanCpu, "in-process sides are charged within their slices")
      }
    } finally {
      for (const contestant of opened) await contestant.close()
    }
  })

  it("--tls: the TLS sides run over memcached's TLS port, at defaults and with a serializer; without it they refuse", async () => {
    const certificate = makeCertificate()
    const tlsServer = await startMemcached({ memoryMb: 64, tls: certificate })
    try {
      const tls = { address: tlsServer.tlsAddress!, caFile: certificate.certFile }
      for (const serializer of [DEFAULTS, "json"]) {
        for (const id of ["cache-tls", "facade-tls"] as const) {
          const contestant = await openContestant(library, id, { ...options(serializer), tls }, false)
          try {
            const { get, set, afterGetMany } = await exercise(contestant)
            assert.isAbove(get.ops + set.ops, 0, id)
            assert.strictEqual(afterGetMany.misses, 0, id)
          } finally {
            await contestant.close()
          }
        }
      }
      // The plain port of the same memcached is not the TLS one.
      const wrong = { address: tlsServer.address, caFile: certificate.certFile }
      await assertRejects(openContestant(library, "cache-tls", { ...options(DEFAULTS), tls: wrong }, false), /TLS/)
      await assertRejects(openContestant(library, "facade-tls", options(DEFAULTS), false), /--tls/)
    } finally {
      await tlsServer.stop()
      certificate.remove()
    }
  })

  it("--protocol: the meta sides speak meta, at defaults and with a serializer; the bench's memcached speaks both", async () => {
    // memcached -B ascii refuses binary: there, only a side that speaks meta can write its keys and read them back.
    const ascii = await startMemcached({ memoryMb: 64, asciiOnly: true })
    try {
      for (const serializer of [DEFAULTS, "json"]) {
        for (const id of ["cache-meta", "facade-meta", "defaults-meta"] as const) {
          await readsBack(id, { ...options(serializer), address: ascii.address })
        }
      }
      // A binary request gets no answer there (memcached reads it as a text line), or its connection is closed.
      for (const id of ["cache", "facade"] as const) {
        await assertRejects(
          openContestant(library, id, { ...options(DEFAULTS), address: ascii.address }, false),
          /memcached (Timeout|Unavailable)/
        )
      }
    } finally {
      await ascii.stop()
    }
    // The bench's own memcached (-B auto) answers a binary side and a meta side at once.
    const opened: Array<Contestant> = []
    try {
      for (const id of ["cache", "cache-meta"] as const) {
        opened.push(await openContestant(library, id, options(DEFAULTS), false))
      }
      for (const contestant of opened) {
        const { get, afterGetMany } = await exercise(contestant)
        assert.isAbove(get.ops, 0, contestant.label)
        assert.strictEqual(afterGetMany.misses, 0, contestant.label)
      }
    } finally {
      for (const contestant of opened) await contestant.close()
    }
  })

  it("--tracing: our sides, plain and over TLS, make spans under otel only, and read back what they wrote", async () => {
    const certificate = makeCertificate()
    const tlsServer = await startMemcached({ memoryMb: 64, tls: certificate })
    try {
      const tls = { address: tlsServer.tlsAddress!, caFile: certificate.certFile }
      for (const tracing of ["none", "otel", "sampled0", "disabled"] as const) {
        for (
          const [id, serializer] of [["cache-tls", DEFAULTS], ["facade-tls", "json"], ["cache", DEFAULTS]] as const
        ) {
          const before = await flushSpans()
          const contestant = await openContestant(library, id, { ...options(serializer), tls, tracing }, false)
          try {
            const { get, afterGetMany } = await exercise(contestant)
            assert.isAbove(get.ops, 0, `${id} ${tracing}`)
            assert.strictEqual(afterGetMany.misses, 0, `${id} ${tracing}`)
          } finally {
            await contestant.close()
          }
          // One span per operation under otel (200 preloads, 200 sanity reads and the slices'); none otherwise.
          const spans = (await flushSpans()) - before
          if (tracing === "otel") assert.isAbove(spans, 400, id)
          else assert.strictEqual(spans, 0, `${id} ${tracing}`)
        }
      }
    } finally {
      await tlsServer.stop()
      certificate.remove()
    }
  })

  it("a side in a process of its own runs slices and reports its CPU over the repetition", async () => {
    const ids: ReadonlyArray<SideId> = ["memjs", "facade"]
    const contestants = await Promise.all(
      ids.map((id) => spawnContestant({ ...options("structured"), id, fromSource: true }))
    )
    try {
      for (const contestant of contestants) {
        await contestant.begin("get-c16")
        assert.strictEqual(await contestant.warm(20), 0)
        await contestant.reset()
        const first = await contestant.slice(30)
        const second = await contestant.slice(30)
        const report = await contestant.report()
        await contestant.end()
        assert.isAbove(first.ops + second.ops, 0)
        assert.isAtLeast(second.start, first.end)
        // The span runs from the first slice's start to the last one's end: at least the CPU within them.
        assert.isDefined(report.spanCpu)
        assert.isAtLeast(
          report.spanCpu!.userUs + report.spanCpu!.systemUs,
          first.userUs + first.systemUs + second.userUs + second.systemUs
        )
        assert.isAtLeast(report.gcUs, 0)
      }
    } finally {
      for (const contestant of contestants) await contestant.close()
    }
  })

  it.skipIf(!existsSync("/proc/self/fd"))(
    "memcache, idle past its 5 s socket timeout, resumes on one socket instead of one per command in flight",
    async () => {
      const contestant = await openContestant(library, "memcache", options(DEFAULTS), false)
      try {
        await contestant.begin("get-c16")
        await new Promise((resolve) => setTimeout(resolve, 5_500))
        const before = readdirSync("/proc/self/fd").length
        const slice = await contestant.slice(30)
        const report = await contestant.report()
        await contestant.end()
        assert.isAbove(slice.ops, 0)
        assert.strictEqual(report.misses, 0)
        // Without the reconnect before the slice, its 16 workers' first gets opened 16 sockets.
        assert.isAtMost(readdirSync("/proc/self/fd").length - before, 2)
      } finally {
        await contestant.close()
      }
    }
  )

  it("a call that never settles fails the run with the side's name", async () => {
    const never = new Promise<never>(() => {})
    const stuck: Contestant = {
      id: "memcache",
      label: "memcache",
      begin: () => never,
      warm: () => never,
      reset: async () => {},
      slice: () => never,
      report: () => never,
      end: async () => {},
      close: async () => {}
    }
    const guarded = withDeadlines(stuck, 50)
    const outcome = await guarded.slice(10).then(() => "settled", (error: Error) => error.message)
    assert.match(outcome, /^memcache: a slice of 10 ms did not end within 60 ms/)
    await guarded.reset()
  })

  it("a side's process that cannot open its side fails with the reason", async () => {
    const failure = await spawnContestant({ ...options("no-such-serializer"), id: "cache", fromSource: true }).then(
      () => "opened",
      (error: Error) => error.message
    )
    assert.match(failure, /unknown serializer no-such-serializer/)
  })

  it("a call to a side whose process has exited fails instead of hanging", async () => {
    const contestant = await spawnContestant({ ...options(DEFAULTS), id: "memjs", fromSource: true })
    await contestant.close()
    const outcome = await contestant.begin("get-c16").then(() => "answered", (error: Error) => error.message)
    assert.match(outcome, /process exited/)
  })
})
