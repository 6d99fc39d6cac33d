/**
 * The meta lease suite of the Effect 3 line (`../../test/metaLease.test.ts`), run on the Effect 4 line: `#line`
 * resolves to `./support/line.ts` here.
 */
import "../../test/metaLease.test.js"
