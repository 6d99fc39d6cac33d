/**
 * The shared `Cache` contract (`../../test/support/contract.ts`) on the Effect 4 line's in-memory fake, under the
 * `TestClock`.
 */
import { cacheContract } from "../../test/support/contract.js"
import { MemcachedTest } from "../src/index.js"

cacheContract("MemcachedTest (Effect 4)", MemcachedTest, { live: false })
