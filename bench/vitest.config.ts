import { fileURLToPath } from "node:url"
import { defineConfig } from "vitest/config"

// The bench harness's own tests: `npm run bench:test`, kept out of the library's `npm test`.
export default defineConfig({
  resolve: {
    // src/'s glue imports `#effect-line` (see the root's vitest.config.ts): this line's adapter, not a stale dist/.
    alias: { "#effect-line": fileURLToPath(new URL("../src/internal/effectLine.ts", import.meta.url)) }
  },
  test: {
    root: import.meta.dirname,
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000
  }
})
