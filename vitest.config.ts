import { fileURLToPath } from "node:url"
import { defineConfig } from "vitest/config"

export default defineConfig({
  resolve: {
    // The contract suite (test/support/contract.ts) is shared with the Effect 4 line: `#line` is this line's adapter;
    // so is the glue in src/ that imports `#effect-line` (package.json `imports` maps it in the published dist/).
    alias: {
      "#line": fileURLToPath(new URL("./test/support/line.ts", import.meta.url)),
      "#effect-line": fileURLToPath(new URL("./src/internal/effectLine.ts", import.meta.url))
    }
  },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
})
