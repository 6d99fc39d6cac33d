/**
 * The direct path suite of the Effect 3 line (`../../test/cacheDirect.test.ts`), run on the Effect 4 line: `#line`
 * resolves to `./support/line.ts` here.
 */
import "../../test/cacheDirect.test.js"
