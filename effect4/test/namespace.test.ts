/**
 * The namespace suite of the Effect 3 line (`../../test/namespace.test.ts`), run on the Effect 4 line: `#line` resolves to
 * `./support/line.ts` here.
 */
import "../../test/namespace.test.js"
