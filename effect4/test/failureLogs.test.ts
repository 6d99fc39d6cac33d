/**
 * The failure log suite of the Effect 3 line (`../../test/failureLogs.test.ts`), run on the Effect 4 line: `#line`
 * resolves to `./support/line.ts` here.
 */
import "../../test/failureLogs.test.js"
