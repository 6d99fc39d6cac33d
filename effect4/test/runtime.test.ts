/**
 * The suite runs on a Node the Effect 4 line supports (scripts/node.sh picks it), whatever Node ran `npm test`.
 */
import { assert, it } from "@effect/vitest"

it("runs on Node >= 22.19", () => {
  const [major = 0, minor = 0] = process.versions.node.split(".").map(Number)
  assert.isTrue(major > 22 || (major === 22 && minor >= 19), `running on Node ${process.versions.node}`)
})
