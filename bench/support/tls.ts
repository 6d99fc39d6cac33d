/**
 * `--tls`: a self-signed certificate for `127.0.0.1`, made with openssl in a temp dir that `remove` deletes. The TLS
 * sides trust it as their CA.
 */
import { execFileSync } from "node:child_process"
import { chmodSync, existsSync, mkdtempSync, rmSync } from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

export interface BenchCertificate {
  readonly certFile: string
  readonly keyFile: string
  readonly remove: () => void
}

export const makeCertificate = (): BenchCertificate => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "bench-tls-"))
  const certFile = path.join(dir, "cert.pem")
  const keyFile = path.join(dir, "key.pem")
  const remove = () => rmSync(dir, { recursive: true, force: true })
  try {
    execFileSync(existsSync("/usr/bin/openssl") ? "/usr/bin/openssl" : "openssl", [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
      "-keyout",
      keyFile,
      "-out",
      certFile
    ], { stdio: ["ignore", "ignore", "pipe"] })
    // memcached reads them after dropping privileges to `nobody` when run as root.
    chmodSync(dir, 0o755)
    chmodSync(keyFile, 0o644)
  } catch (error) {
    remove()
    throw new Error(
      `--tls needs openssl to make a certificate: ${error instanceof Error ? error.message : String(error)}`
    )
  }
  return { certFile, keyFile, remove }
}
