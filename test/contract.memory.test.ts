import { MemcachedTest } from "../src/index.js"
import { cacheContract } from "./support/contract.js"

cacheContract("MemcachedTest", MemcachedTest, { live: false })
