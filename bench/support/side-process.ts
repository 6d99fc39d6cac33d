/**
 * The entry point of a side's own process (see remote.ts): one side, and for ours the library as the coordinator
 * compiled it. A peer's process loads neither Effect nor the library.
 */
import { openContestant } from "./contestant.js"
import { serveContestant } from "./remote.js"

void serveContestant((init) =>
  openContestant(
    async () => {
      const { loadLibrary } = await import("./library.js")
      return await loadLibrary(init.fromSource, (line) => process.stderr.write(`${line}\n`), false)
    },
    init.id,
    init,
    true
  )
)
