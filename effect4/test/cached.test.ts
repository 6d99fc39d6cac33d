/**
 * The cached suite of the Effect 3 line (`../../test/cached.test.ts`), run on the Effect 4 line: `#line` resolves to
 * `./support/line.ts` here.
 */
import "../../test/cached.test.js"
