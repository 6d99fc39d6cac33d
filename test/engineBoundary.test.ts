/**
 * The lint rule that keeps `src/engine/` free of Effect (both Effect lines compile the same engine): an engine file
 * may import other engine files, `node:*` modules and memjs, and nothing else, not even a type.
 */
import { ESLint } from "eslint"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")

/** The sources of the imports that the rule refuses in `source`, as if it were a file in `folder`. */
const refused = async (source: string, folder = "src/engine") => {
  const [result] = await new ESLint({ cwd: root }).lintText(source, {
    filePath: path.join(root, folder, "boundary-probe.ts")
  })
  return result!.messages
    .filter((message) => message.ruleId === "no-restricted-imports")
    .map((message) => /'([^']+)'/.exec(message.message)?.[1])
}

describe("src/engine imports", () => {
  it(
    "refuses effect, @effect/*, other packages and files outside src/engine; allows ./, node:* and memjs",
    async () => {
      const source = [
        `import * as Effect from "effect/Effect"`,
        `import { pipe } from "effect"`,
        `import type { Schema } from "@effect/schema"`,
        `import type { MemcachedError } from "../errors/MemcachedError.js"`,
        `import { makeKeyEncoder } from "../internal/keys.js"`,
        `import fs from "fs"`,
        `import * as Memjs from "memjs"`,
        `import * as Net from "node:net"`,
        `import { Item } from "./item.js"`,
        `export const all = [Effect, pipe, makeKeyEncoder, fs, Memjs, Net, Item] as unknown as [Schema, MemcachedError]`,
        ``
      ].join("\n")
      expect(await refused(source)).toEqual([
        "effect/Effect",
        "effect",
        "@effect/schema",
        "../errors/MemcachedError.js",
        "../internal/keys.js",
        "fs"
      ])
    },
    30_000
  )

  it("applies to src/engine only", async () => {
    expect(await refused(`import * as Effect from "effect/Effect"\nexport const e = Effect\n`, "src/internal")).toEqual(
      []
    )
  }, 30_000)
})
