/**
 * Effect 3's `Effect` module, the very instance that the repository root's `src/` (the Effect 3 line) loads, to run
 * what that line returns in the same process as Effect 4.
 */
import type * as Effect3 from "../../../node_modules/effect/dist/dts/Effect.js"

const url = new URL("../../../node_modules/effect/dist/esm/Effect.js", import.meta.url).href

/** @internal */
export const Effect: typeof Effect3 = await import(url)
