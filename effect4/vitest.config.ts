import { fileURLToPath } from "node:url"
import { defineConfig } from "vitest/config"

export default defineConfig({
  resolve: {
    // The contract suite (../test/support/contract.ts) is shared with the Effect 3 line: `#line` is this line's adapter;
    // so is the glue in ../src that imports `#effect-line` (scripts/build.mjs points it here in dist/).
    alias: {
      "#line": fileURLToPath(new URL("./test/support/line.ts", import.meta.url)),
      "#effect-line": fileURLToPath(new URL("./src/internal/effectLine.ts", import.meta.url))
    }
  },
  server: { fs: { allow: [".."] } },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
})
