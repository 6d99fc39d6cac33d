import { defineConfig } from "vitest/config"

// The bench harness's own tests: `npm run bench:test`, kept out of the library's `npm test`.
export default defineConfig({
  test: {
    root: import.meta.dirname,
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000
  }
})
