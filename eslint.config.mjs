// Lint and format (dprint through @effect/eslint-plugin), as the Effect packages do. `npm run lint -- --fix` formats.
import * as effectEslint from "@effect/eslint-plugin";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["**/dist", "**/node_modules", "bench/.build", "bench/profiles", "scratch"] },
  {
    files: ["**/*.ts", "**/*.mts"],
    languageOptions: { parser: tseslint.parser },
    plugins: { "@typescript-eslint": tseslint.plugin },
  },
  ...effectEslint.configs.dprint,
  {
    files: ["**/*.ts", "**/*.mts"],
    rules: {
      "@effect/dprint": ["error", {
        config: {
          indentWidth: 2,
          lineWidth: 120,
          semiColons: "asi",
          quoteStyle: "alwaysDouble",
          trailingCommas: "never",
          operatorPosition: "maintain",
          "arrowFunction.useParentheses": "force",
        },
      }],
      "@typescript-eslint/array-type": ["error", { default: "generic", readonly: "generic" }],
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    files: ["src/**/*.ts", "effect4/src/**/*.ts"],
    rules: { "no-console": "error" },
  },
  {
    // The engine is shared by both Effect lines: it imports only other engine files, node:* modules and memjs.
    files: ["src/engine/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", {
        patterns: [{
          group: ["*", "!.", "!./*", "!node:*", "!memjs"],
          message: "src/engine imports only other engine files (./x.js), node:* modules and memjs: no effect, "
            + "no @effect/*, nothing outside src/engine.",
        }],
      }],
    },
  },
);
