/**
 * The fault suites (`support/faultSuites.ts`: down, silent, killed, restarted, frozen, closed, and the Promise facade
 * closed under load) over the meta protocol, against memcached processes that speak no binary (`-B ascii`).
 */
import { faultSuites } from "./support/faultSuites.js"

faultSuites("meta")
