// Builds the publishable dist/ of the Effect 4 line, self-contained: effect4/src plus the Effect-free engine it imports
// from the root's src/engine and the glue both lines share (the root's src/**, outside the engine, that imports
// `#effect-line`), compiled together so that nothing in dist/ reaches outside the package.
// 1. Stage effect4/src/** to .build/src, ../src/engine/*.ts to .build/src/engine and each shared ../src/<path> to
//    .build/src/<path>, rewriting each relative import that pointed into ../src so it points at the staged copy, and
//    `#effect-line` to this line's staged src/internal/effectLine.ts (module specifiers found by TypeScript's parser).
// 2. Refuse a relative import that leaves the package, or a bare import that package.json does not declare.
// 3. tsc -p tsconfig.build.json (.build/src -> dist; source maps carry their sources inline, as .build/ is removed).
// Also copies the root's LICENSE next to package.json, for the tarball. Usage: node scripts/build.mjs (prepack runs it).
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import { builtinModules, createRequire } from "node:module";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);
const ts = require(path.join(here, "node_modules/typescript"));
const pkg = JSON.parse(fs.readFileSync(path.join(here, "package.json"), "utf8"));
const ownSrc = path.join(here, "src");
const rootSrc = path.resolve(here, "../src");
const engineSrc = path.join(rootSrc, "engine");
const stage = path.join(here, ".build");
const stagedSrc = path.join(stage, "src");

const fail = (message) => {
  fs.rmSync(stage, { recursive: true, force: true });
  console.error(`effect4 build: ${message}`);
  process.exit(1);
};

const tsFiles = (dir) =>
  fs.readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".ts"))
    .map((entry) => path.join(entry.parentPath, entry.name));

// Where each source file goes in the stage.
const placed = new Map();
for (const file of tsFiles(ownSrc)) placed.set(file, path.join(stagedSrc, path.relative(ownSrc, file)));
for (const file of tsFiles(engineSrc)) {
  const target = path.join(stagedSrc, "engine", path.relative(engineSrc, file));
  if ([...placed.values()].includes(target)) {
    fail(`effect4/src/engine/ would collide with the staged engine: ${target}`);
  }
  placed.set(file, target);
}

// The shared glue: written once in the Effect API both lines have, with what differs imported from `#effect-line`.
const lineAdapter = "#effect-line";
for (const file of tsFiles(rootSrc)) {
  if (file.startsWith(engineSrc + path.sep) || !fs.readFileSync(file, "utf8").includes(`"${lineAdapter}"`)) continue;
  const target = path.join(stagedSrc, path.relative(rootSrc, file));
  if ([...placed.values()].includes(target)) fail(`effect4/src would collide with the shared ${target}`);
  placed.set(file, target);
}
const adapterTarget = path.join(stagedSrc, "internal/effectLine.ts");

const declared = new Set([
  ...Object.keys(pkg.dependencies ?? {}),
  ...Object.keys(pkg.peerDependencies ?? {}),
]);
const packageOf = (specifier) => specifier.split("/").slice(0, specifier.startsWith("@") ? 2 : 1).join("/");
const isBuiltin = (specifier) => specifier.startsWith("node:") || builtinModules.includes(specifier);

// Every module specifier: import/export ... from, import("..."), import("...") types and import x = require("...").
const moduleSpecifiers = (sourceFile) => {
  const found = [];
  const visit = (node) => {
    const specifier = ts.isImportDeclaration(node) || ts.isExportDeclaration(node)
      ? node.moduleSpecifier
      : ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)
      ? node.argument.literal
      : ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword
      ? node.arguments[0]
      : ts.isExternalModuleReference(node)
      ? node.expression
      : undefined;
    if (specifier !== undefined && ts.isStringLiteralLike(specifier)) found.push(specifier);
    ts.forEachChild(node, visit);
  };
  visit(sourceFile);
  return found.sort((a, b) => a.getStart() - b.getStart());
};

const stageFile = (from, to) => {
  const text = fs.readFileSync(from, "utf8");
  let out = "";
  let at = 0;
  for (const literal of moduleSpecifiers(ts.createSourceFile(from, text, ts.ScriptTarget.Latest, true))) {
    const specifier = literal.text;
    const pos = literal.getStart() + 1;
    const end = literal.end - 1;
    let replacement = specifier;
    if (specifier.startsWith(".") || specifier === lineAdapter) {
      const target = specifier === lineAdapter
        ? adapterTarget
        : placed.get(path.resolve(path.dirname(from), specifier.replace(/\.js$/, ".ts")));
      if (target === undefined) {
        fail(`${path.relative(here, from)} imports ${specifier}, which is outside what the package ships`);
      }
      replacement = path.relative(path.dirname(to), target).replace(/\.ts$/, ".js").split(path.sep).join("/");
      if (!replacement.startsWith(".")) replacement = `./${replacement}`;
    } else if (!isBuiltin(specifier) && !declared.has(packageOf(specifier))) {
      fail(`${path.relative(here, from)} imports ${specifier}: not in dependencies or peerDependencies`);
    }
    out += text.slice(at, pos) + replacement;
    at = end;
  }
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.writeFileSync(to, out + text.slice(at));
};

fs.rmSync(stage, { recursive: true, force: true });
fs.rmSync(path.join(here, "dist"), { recursive: true, force: true });
try {
  for (const [from, to] of placed) stageFile(from, to);
  execFileSync(process.execPath, [path.join(here, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"], {
    cwd: here,
    stdio: "inherit",
  });
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
} finally {
  fs.rmSync(stage, { recursive: true, force: true });
}
fs.copyFileSync(path.resolve(here, "../LICENSE"), path.join(here, "LICENSE"));
