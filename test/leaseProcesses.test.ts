/**
 * Stampede protection across processes, as applications run: several Node processes, each with its own facade, call
 * one function cached with a lease at the same moment, against a real memcached. Over binary the lease is a
 * `<key>:lease` entry taken with `add`; over meta it is memcached's own (`mg … N`, the `W`/`Z` flags, on a memcached
 * that speaks no binary). Either way one process computes per expiry and the others get its value.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { type Child, runFixture } from "./support/fixtures.js"
import { startMemcached } from "./support/MemcachedServer.js"

const PROCESSES = 4

/** What a child printed for `round`: the value it got and whether it computed it; dies after 20 s without it. */
const answerOf = (child: Child, round: number) =>
  Effect.gen(function*() {
    const pattern = new RegExp(`^round ${round} got (\\d+) computed (yes|no)$`, "m")
    const deadline = performance.now() + 20_000
    for (;;) {
      const match = pattern.exec(child.stdout())
      if (match !== null) return { value: match[1]!, computed: match[2] === "yes" }
      if (performance.now() > deadline || child.process.exitCode !== null) {
        return yield* Effect.dieMessage(`no answer for round ${round}: ${child.stdout()} ${child.stderr()}`)
      }
      yield* Effect.sleep("10 millis")
    }
  })

for (const protocol of ["binary", "meta"] as const) {
  describe(`a lease across ${PROCESSES} processes (${protocol}, real memcached)`, () => {
    it.scopedLive("one process computes per expiry; every other gets its value", () =>
      Effect.gen(function*() {
        const server = yield* startMemcached(protocol === "meta" ? { extraArgs: ["-B", "ascii"] } : {})
        const children = yield* Effect.all(
          Array.from(
            { length: PROCESSES },
            () => runFixture("lease-worker.mts", [server.address, protocol], {}, 60_000)
          ),
          { concurrency: "unbounded" }
        )
        yield* Effect.forEach(children, (child) => child.printed("ready"), { concurrency: "unbounded", discard: true })
        for (const round of [1, 2]) {
          for (const child of children) child.process.stdin.write(`go ${round}\n`)
          const answers = yield* Effect.forEach(children, (child) => answerOf(child, round), {
            concurrency: "unbounded"
          })
          const computers = children.filter((_, i) => answers[i]!.computed)
          assert.strictEqual(computers.length, 1, `round ${round}: ${JSON.stringify(answers)}`)
          for (const answer of answers) assert.strictEqual(answer.value, String(computers[0]!.process.pid))
          // the value lives 2 s, and memcached's clock ticks once a second: 3.5 s later it has expired
          if (round === 1) yield* Effect.sleep("3500 millis")
        }
        for (const child of children) {
          child.process.stdin.end()
          assert.isDefined(yield* child.exited, `a child had to be killed: ${child.stderr()}`)
          assert.strictEqual(child.stderr(), "")
        }
      }), 60_000)
  })
}
