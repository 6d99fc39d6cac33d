/**
 * The wire dialects a pool can speak, and the client of each: memcached's binary protocol over memjs's servers (with
 * SASL), or its meta protocol (`metaClient.ts`), the one memcached's proxy and mcrouter speak. Both answer the same
 * operations the same way (`EngineClient`).
 *
 * @internal
 */
import type { EngineClient, PoolEngineOptions } from "./client.js"
import { makeEngineClient } from "./client.js"
import { makeMemjsClient } from "./memjs.js"
import { makeMetaEngineClient } from "./metaClient.js"
import type { Protocol } from "./options.js"
import type { TlsSettings } from "./tls.js"

/**
 * @internal A client of the pool in `protocol` (binary when left out); `username` and `password` turn authentication
 * on: SASL PLAIN over binary, memcached's text-protocol authentication (`-Y` auth file) over meta; `tls` dials the
 * servers over TLS.
 */
export const makeClient = (
  protocol: Protocol | undefined,
  options: PoolEngineOptions,
  username: string | undefined,
  password: string | undefined,
  tls: TlsSettings | undefined
): EngineClient =>
  protocol === "meta"
    ? makeMetaEngineClient({ ...options, username, password, tls })
    : makeEngineClient({
      ...options,
      client: makeMemjsClient(options.addresses, username, password, options.deadlineMillis, tls)
    })
