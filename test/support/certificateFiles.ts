/**
 * Certificates made by the test run itself with openssl (`/usr/bin/openssl`), in a temp dir removed afterwards: a CA
 * and a server certificate it signed (for `127.0.0.1` and `localhost`), the same server key with an expired
 * certificate, a second CA the servers never use, and client certificates signed by each CA (for mutual TLS). Without
 * Effect, so both lines' tests use them (`certificates.ts` wraps them for Effect 3).
 */
import { execFile } from "node:child_process"
import { existsSync } from "node:fs"
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"

const OPENSSL = existsSync("/usr/bin/openssl") ? "/usr/bin/openssl" : "openssl"

/** A certificate and its key: paths (for memcached) and contents (for Node). */
export interface KeyPair {
  readonly certFile: string
  readonly keyFile: string
  readonly cert: Buffer
  readonly key: Buffer
}

export interface Certificates {
  readonly dir: string
  /** The CA that signed the server's and the client's certificates. */
  readonly caFile: string
  readonly ca: Buffer
  /** A CA that signed nothing the servers use. */
  readonly otherCa: Buffer
  /** For `127.0.0.1` and `localhost`, signed by `ca`, valid for two days. */
  readonly server: KeyPair
  /** The server's key with a certificate signed by `ca` that expired yesterday. */
  readonly expiredServer: KeyPair
  /** A client certificate signed by `ca`. */
  readonly client: KeyPair
  /** A client certificate signed by the other CA. */
  readonly stranger: KeyPair
}

const openssl = (cwd: string, args: ReadonlyArray<string>): Promise<void> =>
  new Promise((resolve, reject) =>
    execFile(
      OPENSSL,
      args,
      { cwd },
      (error, _stdout, stderr) =>
        error ? reject(new Error(`openssl ${args.join(" ")}: ${stderr || error.message}`)) : resolve()
    )
  )

const newKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

const makeCa = (dir: string, name: string) =>
  openssl(dir, [
    "req",
    "-x509",
    ...newKey,
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.pem`,
    "-days",
    "2",
    "-subj",
    `/CN=${name}`
  ])

/** A certificate for `subject`'s key (made unless it exists), signed by `ca`, valid for `days` (-1: expired). */
const sign = async (dir: string, name: string, key: string, subject: string, ca: string, days: number) => {
  const keyArgs = existsSync(path.join(dir, `${key}.key`))
    ? ["-key", `${key}.key`]
    : [...newKey, "-keyout", `${key}.key`]
  await openssl(dir, ["req", "-new", ...keyArgs, "-out", `${name}.csr`, "-subj", `/CN=${subject}`])
  await openssl(dir, [
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    `${ca}.pem`,
    "-CAkey",
    `${ca}.key`,
    "-set_serial",
    String(Math.floor(Math.random() * 1e9)),
    "-days",
    String(days),
    "-out",
    `${name}.pem`,
    "-extfile",
    "san.ext"
  ])
}

const pair = async (dir: string, cert: string, key: string): Promise<KeyPair> => ({
  certFile: path.join(dir, `${cert}.pem`),
  keyFile: path.join(dir, `${key}.key`),
  cert: await readFile(path.join(dir, `${cert}.pem`)),
  key: await readFile(path.join(dir, `${key}.key`))
})

/** Makes the certificates in a new temp dir (`removeCertificates` removes it). */
export const createCertificates = async (): Promise<Certificates> => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "memcached-tls-"))
  try {
    await writeFile(path.join(dir, "san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    await makeCa(dir, "ca")
    await makeCa(dir, "other-ca")
    await sign(dir, "server", "server", "localhost", "ca", 2)
    await sign(dir, "expired", "server", "localhost", "ca", -1)
    await sign(dir, "client", "client", "client", "ca", 2)
    await sign(dir, "stranger", "stranger", "stranger", "other-ca", 2)
    // memcached drops privileges to `nobody` (as root) before it reads its certificate and key.
    await chmod(dir, 0o755)
    for (const file of await readdir(dir)) await chmod(path.join(dir, file), 0o644)
    return {
      dir,
      caFile: path.join(dir, "ca.pem"),
      ca: await readFile(path.join(dir, "ca.pem")),
      otherCa: await readFile(path.join(dir, "other-ca.pem")),
      server: await pair(dir, "server", "server"),
      expiredServer: await pair(dir, "expired", "server"),
      client: await pair(dir, "client", "client"),
      stranger: await pair(dir, "stranger", "stranger")
    }
  } catch (error) {
    await rm(dir, { recursive: true, force: true })
    throw error
  }
}

/** Removes the certificates' temp dir. */
export const removeCertificates = (certificates: Certificates): Promise<void> =>
  rm(certificates.dir, { recursive: true, force: true })
