// Type-checks every ```ts block of README.md as a module of its own, importing "effect-memcached" (and its subpaths)
// from src/, so that a snippet cannot drift from the API. Each block must compile alone: its imports written out, and
// whatever it assumes declared (`declare const loadUser: …`). Use another fence (```text) for what is not code.
// Usage: npm run check:readme [-- file.md …]   (default README.md)
import { spawnSync } from "node:child_process"
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import path from "node:path"

const root = path.resolve(import.meta.dirname, "..")
const files = process.argv.length > 2 ? process.argv.slice(2) : ["README.md"]
// Inside node_modules, so that the snippets resolve the project's dependencies; never tracked.
const dir = path.join(root, "node_modules", ".cache", "readme-snippets")
rmSync(dir, { recursive: true, force: true })
mkdirSync(dir, { recursive: true })

const snippets: Array<string> = []
for (const file of files) {
  const lines = readFileSync(path.join(root, file), "utf8").split("\n")
  for (let i = 0; i < lines.length; i++) {
    if (!/^```(ts|typescript)\s*$/.test(lines[i])) continue
    const start = i + 1
    const end = lines.findIndex((line, j) => j > i && line.startsWith("```"))
    if (end < 0) throw new Error(`${file}:${i + 1}: unclosed code block`)
    const name = `${file.replace(/[^\w]/g, "_")}-line-${start}.mts`
    writeFileSync(path.join(dir, name), `${lines.slice(start, end).join("\n")}\n`)
    snippets.push(name)
    i = end
  }
}

const src = (file: string) => path.relative(dir, path.join(root, "src", file))
const modules = ["Cache", "Memcached", "MemcachedCache", "MemcachedLive", "MemcachedTest", "Serializer"]
const paths = {
  "effect-memcached": [src("index.ts")],
  "effect-memcached/errors": [src("errors/index.ts")],
  "effect-memcached/KeyValueStore": [src("KeyValueStore.ts")],
  "effect-memcached/MemcachedPersistence": [src("MemcachedPersistence.ts")],
  "effect-memcached/Observability": [src("Observability.ts")],
  ...Object.fromEntries(modules.map((name) => [`effect-memcached/${name}`, [src(`${name}.ts`)]]))
}
writeFileSync(
  path.join(dir, "tsconfig.json"),
  JSON.stringify({
    extends: path.relative(dir, path.join(root, "tsconfig.json")),
    compilerOptions: { noEmit: true, noUnusedLocals: false, noUnusedParameters: false, paths },
    include: [],
    files: snippets
  })
)

const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc")
const result = spawnSync(process.execPath, [tsc, "-p", path.join(dir, "tsconfig.json")], { encoding: "utf8" })
// Report errors by the Markdown line they come from.
const output = `${result.stdout}${result.stderr}`.replace(
  /(?:[^\s(]*\/)?(\w+)_md-line-(\d+)\.mts\((\d+),(\d+)\)/g,
  (_, file: string, start: string, line: string, column: string) =>
    `${file}.md:${Number(start) + Number(line)}:${column}`
)
process.stdout.write(output)
if (result.status !== 0) process.exit(result.status ?? 1)
console.log(`check-readme: ${snippets.length} snippets from ${files.join(", ")} type-check`)
