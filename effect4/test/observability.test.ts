/**
 * The observability suite of the Effect 3 line (`../../test/observability.test.ts`), run on the Effect 4 line:
 * `#line` resolves to `./support/line.ts` here.
 */
import "../../test/observability.test.js"
