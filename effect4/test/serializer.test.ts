/**
 * The serializer suite of the Effect 3 line (`../../test/serializer.test.ts`), run on the Effect 4 line: `#line`
 * resolves to `./support/line.ts` here.
 */
import "../../test/serializer.test.js"
