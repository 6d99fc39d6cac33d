import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { type Contestant, openContestant } from "../support/contestant.js"
import { parseOptions } from "../support/env.js"
import { DEFAULTS, loadLibrary } from "../support/library.js"
import { type BenchServer, startMemcached } from "../support/memcached.js"
import { spawnContestant } from "../support/remote.js"
import { compileV4Library, isV4Side, supportsV4, type V4SideId, v4Unavailable } from "../support/v4-line.js"

/**
 * The Effect 4 line's sides against a real memcached, each in a process of its own on a Node the v4 line supports:
 * they write their own keys and read one back (`spawnContestant` fails otherwise), then run a slice of gets, sets and
 * getManys without a miss. A v4 side that ran on this Node 20, or whose library got the root's effect 3, fails to open.
 */
let server: BenchServer

beforeAll(async () => {
  server = await startMemcached({ memoryMb: 64 })
})
afterAll(() => server?.stop())

const init = (id: V4SideId, serializer: string, fromSource: boolean, address = server.address) => ({
  address,
  serializer,
  buffers: false,
  keys: 200,
  id,
  fromSource
})

const exercise = async (contestant: Contestant) => {
  const counts: Array<number> = []
  for (const workload of ["get-c16", "set-c16", "getmany-100"]) {
    await contestant.begin(workload)
    assert.strictEqual(await contestant.warm(20), 0, `${contestant.label} ${workload}`)
    await contestant.reset()
    const slice = await contestant.slice(30)
    const report = await contestant.report()
    await contestant.end()
    assert.strictEqual(report.misses, 0, `${contestant.label} ${workload}`)
    assert.isDefined(report.spanCpu, "a process of its own is charged over the repetition")
    counts.push(slice.ops)
  }
  return counts
}

describe.skipIf(v4Unavailable() !== undefined)("the v4 sides", () => {
  it("run effect4/src through tsx (--src), at defaults and with a serializer", { timeout: 120_000 }, async () => {
    for (const serializer of [DEFAULTS, "json"]) {
      const contestants = await Promise.all(
        (["cache-v4", "facade-v4", "defaults-v4"] as const).map((id) => spawnContestant(init(id, serializer, true)))
      )
      try {
        for (const contestant of contestants) {
          for (const ops of await exercise(contestant)) assert.isAbove(ops, 0, `${contestant.label} ${serializer}`)
        }
      } finally {
        for (const contestant of contestants) await contestant.close()
      }
    }
  })

  it(
    "over meta, speak meta: they run against memcached -B ascii, which refuses binary",
    { timeout: 120_000 },
    async () => {
      const ascii = await startMemcached({ memoryMb: 64, asciiOnly: true })
      try {
        for (const serializer of [DEFAULTS, "json"]) {
          const contestants = await Promise.all(
            (["cache-meta-v4", "facade-meta-v4", "defaults-meta-v4"] as const).map((id) =>
              spawnContestant(init(id, serializer, true, ascii.address))
            )
          )
          try {
            for (const contestant of contestants) {
              for (const ops of await exercise(contestant)) assert.isAbove(ops, 0, `${contestant.label} ${serializer}`)
            }
          } finally {
            for (const contestant of contestants) await contestant.close()
          }
        }
        const binary = await spawnContestant(init("cache-v4", DEFAULTS, true, ascii.address)).then(
          async (contestant) => {
            await contestant.close()
            return "opened"
          },
          (error: Error) => error.message
        )
        assert.match(binary, /^Cache·v4: /)
      } finally {
        await ascii.stop()
      }
    }
  )

  it("run effect4/src compiled into bench/.build/v4, whose effect is effect 4", { timeout: 180_000 }, async () => {
    compileV4Library(false, () => {})
    const contestant = await spawnContestant(init("cache-v4", "bytes", false))
    try {
      for (const ops of await exercise(contestant)) assert.isAbove(ops, 0)
    } finally {
      await contestant.close()
    }
  })

  it.skipIf(supportsV4(process.versions.node))("refuse to run in a process on an older Node", async () => {
    const outcome = await openContestant(
      () => loadLibrary(true, () => {}),
      "cache-v4",
      init("cache-v4", DEFAULTS, true),
      false
    )
      .then(() => "opened", (error: Error) => error.message)
    assert.match(outcome, /Cache·v4 needs Node >= 22\.19/)
  })

  it("are in a run without --sides, beside their v3 counterparts, unless --in-process", () => {
    assert.deepStrictEqual(parseOptions([]).sides, [
      "memjs",
      "memcache-client",
      "memcache",
      "cache",
      "facade",
      "cache-v4",
      "facade-v4"
    ])
    assert.includeMembers([...parseOptions(["--serializer=json"]).sides], ["defaults", "defaults-v4"])
    assert.deepStrictEqual(parseOptions(["--sides=facade-v4,memjs"]).sides, ["memjs", "facade-v4"])
    assert.notInclude([...parseOptions(["--in-process"]).sides], "cache-v4")
    assert.deepStrictEqual(parseOptions(["--protocol=both"]).sides.filter(isV4Side), [
      "cache-v4",
      "cache-meta-v4",
      "facade-v4",
      "facade-meta-v4"
    ])
    assert.deepStrictEqual(parseOptions(["--protocol=meta"]).sides.filter(isV4Side), [
      "cache-meta-v4",
      "facade-meta-v4"
    ])
  })
})
