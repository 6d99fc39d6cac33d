// Type-checks every ```ts block of the given Markdown files as a module of its own, importing "effect-memcached" (and
// its subpaths) from the line's sources, so that a snippet cannot drift from the API: files under effect4/ against the
// Effect 4 line (effect4/src, effect4's effect), the others against the Effect 3 line (src/). Each block must compile
// alone: its imports written out, and whatever it assumes declared (`declare const loadUser: …`). Use another fence
// (```text) for what is not code.
// Usage: npm run check:readme [-- file.md …]   (default README.md)
import { spawnSync } from "node:child_process"
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import path from "node:path"

const root = path.resolve(import.meta.dirname, "..")
const files = process.argv.length > 2 ? process.argv.slice(2) : ["README.md"]
const modules = [
  "Cache",
  "KeyValueStore",
  "Memcached",
  "MemcachedCache",
  "MemcachedLive",
  "MemcachedPersistence",
  "MemcachedTest",
  "Observability",
  "Serializer"
]

/** Writes each snippet of `markdown` into `dir`; returns their file names. */
const extract = (markdown: ReadonlyArray<string>, dir: string): Array<string> => {
  const snippets: Array<string> = []
  for (const file of markdown) {
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
  return snippets
}

/** Type-checks the snippets of `markdown` against the line whose package is at `lineRoot`; returns tsc's status. */
const check = (markdown: ReadonlyArray<string>, lineRoot: string): number => {
  // Inside node_modules, so that the snippets resolve the line's dependencies; never tracked.
  const dir = path.join(lineRoot, "node_modules", ".cache", "readme-snippets")
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const snippets = extract(markdown, dir)
  const src = (file: string) => path.relative(dir, path.join(lineRoot, "src", file))
  const paths = {
    // The line's own adapter, as its tsconfig maps it (this `paths` replaces the tsconfig's).
    "#effect-line": [src("internal/effectLine.ts")],
    "effect-memcached": [src("index.ts")],
    "effect-memcached/errors": [src("errors/index.ts")],
    ...Object.fromEntries(modules.map((name) => [`effect-memcached/${name}`, [src(`${name}.ts`)]]))
  }
  writeFileSync(
    path.join(dir, "tsconfig.json"),
    JSON.stringify({
      extends: path.relative(dir, path.join(lineRoot, "tsconfig.json")),
      compilerOptions: { noEmit: true, noUnusedLocals: false, noUnusedParameters: false, paths },
      include: [],
      files: snippets
    })
  )
  const tsc = createRequire(path.join(lineRoot, "package.json")).resolve("typescript/bin/tsc")
  const result = spawnSync(process.execPath, [tsc, "-p", path.join(dir, "tsconfig.json")], { encoding: "utf8" })
  // Report errors by the Markdown line they come from.
  const output = `${result.stdout}${result.stderr}`.replace(
    /(?:[^\s(]*\/)?(\w+)_md-line-(\d+)\.mts\((\d+),(\d+)\)/g,
    (_, file: string, start: string, line: string, column: string) =>
      `${file}.md:${Number(start) + Number(line)}:${column}`
  )
  process.stdout.write(output)
  if (result.status === 0) {
    console.log(`check-readme: ${snippets.length} snippets from ${markdown.join(", ")} type-check`)
  }
  return result.status ?? 1
}

const effect4 = files.filter((file) => file.startsWith("effect4/"))
const effect3 = files.filter((file) => !file.startsWith("effect4/"))
const statuses = [
  effect3.length > 0 ? check(effect3, root) : 0,
  effect4.length > 0 ? check(effect4, path.join(root, "effect4")) : 0
]
process.exit(Math.max(...statuses))
