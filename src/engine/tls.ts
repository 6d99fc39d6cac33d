/**
 * The `tls` option, checked once for both Effect lines: `true` (Node's trusted CAs), or Node's
 * `tls.ConnectionOptions`, whose certificates, keys and CAs are loaded here into one secure context that every
 * connection reuses, so that a bad certificate or key is reported when the options are checked, never when a server
 * is dialed. The environment's `MEMCACHED_TLS` and `MEMCACHED_TLS_CA_FILE` are read here too.
 *
 * @internal
 */
import { readFileSync } from "node:fs"
import * as Tls from "node:tls"
import { textOf } from "./text.js"

/**
 * `true` to connect over TLS trusting Node's CAs, or Node's `tls.ConnectionOptions` (`ca`, `servername`, `cert` and
 * `key` for mutual TLS, `rejectUnauthorized`, …); `false` or left out for plain TCP. Public as `TlsOption` of
 * `Memcached`.
 */
export type TlsOption = boolean | Tls.ConnectionOptions

/** @internal What `dial` hands to `tls.connect` for each server, besides its host and port. */
export interface TlsSettings {
  readonly connect: Tls.ConnectionOptions
}

/** @internal What is wrong with the `tls` option or its environment variables, as a sentence. */
export class BadTls {
  constructor(readonly reason: string) {}
}

/** Options that would take the connection away from the server the pool dials. */
const dialedByThePool = ["host", "port", "path", "socket"] as const

/** @internal The `tls` option, checked (`undefined`: plain TCP); never throws. */
export const checkTls = (tls: unknown): TlsSettings | undefined | BadTls => {
  if (tls === undefined || tls === false) return undefined
  const options: Tls.ConnectionOptions = tls === true ? {} : tls as Tls.ConnectionOptions
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    return new BadTls(`tls must be true, false or Node's tls.ConnectionOptions, got ${textOf(tls)}`)
  }
  for (const option of dialedByThePool) {
    if (options[option] !== undefined) {
      return new BadTls(`tls.${option} is not supported: the servers option says which servers to dial`)
    }
  }
  try {
    return { connect: { ...options, secureContext: options.secureContext ?? Tls.createSecureContext(options) } }
  } catch (error) {
    // OpenSSL's and Node's messages name the field and the problem, never the key or passphrase itself.
    return new BadTls(`tls: ${error instanceof Error ? error.message : textOf(error)}`)
  }
}

const yes = /^\s*(1|true|yes|on)\s*$/i
const no = /^\s*(0|false|no|off)?\s*$/i

/**
 * @internal The `tls` option from the environment: `MEMCACHED_TLS` (`1`/`true`/`yes`/`on` or `0`/`false`/`no`/`off`)
 * and `MEMCACHED_TLS_CA_FILE`, a PEM file of the CAs to trust instead of Node's (for a private CA), which turns TLS
 * on by itself. `undefined`: plain TCP.
 */
export const tlsFromEnvironment = (
  enabled: string | undefined,
  caFile: string | undefined
): TlsOption | undefined | BadTls => {
  const on = enabled === undefined ? undefined : yes.test(enabled) ? true : no.test(enabled) ? false : enabled
  if (typeof on === "string") return new BadTls(`MEMCACHED_TLS must be 1 or 0 (true or false), got ${on}`)
  if (caFile === undefined || caFile.trim() === "") return on ? true : undefined
  if (on === false) return new BadTls("MEMCACHED_TLS_CA_FILE is set but MEMCACHED_TLS turns TLS off")
  try {
    return { ca: readFileSync(caFile.trim()) }
  } catch (error) {
    const code = typeof error === "object" && error !== null && "code" in error ? ` (${textOf(error.code)})` : ""
    return new BadTls(`MEMCACHED_TLS_CA_FILE: cannot read ${caFile.trim()}${code}`)
  }
}
