/**
 * The lease suite of the Effect 3 line (`../../test/lease.test.ts`), run on the Effect 4 line: `#line` resolves to
 * `./support/line.ts` here.
 */
import "../../test/lease.test.js"
