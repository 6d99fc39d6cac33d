/**
 * The benchmark's own memcached: `memcached -l 127.0.0.1 -p <free port> -t 2 …`, stopped (by its pid, via the
 * ChildProcess handle) when the bench ends, on SIGINT/SIGTERM, or when the process exits. Plain Node, no Effect, so
 * that the bench does not depend on the test harness that other people edit.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import { existsSync } from "node:fs"
import * as net from "node:net"

const HOST = "127.0.0.1"
const BIN = existsSync("/usr/bin/memcached") ? "/usr/bin/memcached" : "memcached"

export interface BenchServer {
  readonly address: string
  /** With `tls`: the same memcached's TLS port, `127.0.0.1:<port>`. */
  readonly tlsAddress: string | undefined
  readonly pid: number
  readonly version: string
  readonly args: ReadonlyArray<string>
  readonly stop: () => Promise<void>
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.once("error", reject)
    server.listen(0, HOST, () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => (port > 0 ? resolve(port) : reject(new Error("could not find a free port"))))
    })
  })

const canConnect = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = net.connect({ host: HOST, port })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.once("connect", () => done(true))
    socket.once("error", () => done(false))
    socket.setTimeout(500, () => done(false))
  })

const sleep = (millis: number) => new Promise<void>((resolve) => setTimeout(resolve, millis))

const memcachedVersion = (): string => {
  const result = spawnSync(BIN, ["-V"], { encoding: "utf8" })
  return (result.stdout || result.stderr || "").trim() || "unknown"
}

/** A certificate and key for a TLS port (`--tls`). */
export interface ServerCertificate {
  readonly certFile: string
  readonly keyFile: string
}

/**
 * With `tls`, memcached (`-Z`) listens with TLS on `tlsPort` and without it (`notls:`) on `port`: one process, so that
 * its CPU per operation compares plain and TLS sides alike.
 */
const listenArgs = (port: number, tls: { readonly cert: ServerCertificate; readonly port: number } | undefined) =>
  tls === undefined
    ? ["-l", HOST, "-p", String(port)]
    : [
      "-Z",
      "-o",
      `ssl_chain_cert=${tls.cert.certFile},ssl_key=${tls.cert.keyFile}`,
      "-l",
      `notls:${HOST}:${port}`,
      "-l",
      `${HOST}:${tls.port}`
    ]

const startOn = async (
  port: number,
  memoryMb: number,
  reqsPerEvent: number | undefined,
  tls: { readonly cert: ServerCertificate; readonly port: number } | undefined,
  asciiOnly: boolean
) => {
  const args = [...listenArgs(port, tls), "-U", "0", "-t", "2", "-c", "4096", "-m", String(memoryMb)]
  if (reqsPerEvent !== undefined) args.push("-R", String(reqsPerEvent))
  if (asciiOnly) args.push("-B", "ascii")
  // memcached refuses to run as root unless told which user to become.
  if (process.getuid?.() === 0) args.push("-u", "nobody")
  const child: ChildProcess = spawn(BIN, args, { stdio: ["ignore", "ignore", "pipe"] })
  let stderr = ""
  child.stderr?.setEncoding("utf8")
  child.stderr?.on("data", (chunk: string) => {
    if (stderr.length < 16_384) stderr += chunk
  })
  let exited = false
  const exit = new Promise<void>((resolve) => {
    child.once("exit", () => {
      exited = true
      resolve()
    })
    child.once("error", (error) => {
      stderr += `\n${error.message}`
      exited = true
      resolve()
    })
  })
  const deadline = Date.now() + 5_000
  while (Date.now() < deadline && !exited) {
    if (await canConnect(port)) return { child, exit, args, ok: true as const }
    await sleep(20)
  }
  if (!exited) child.kill("SIGKILL")
  await exit
  return { ok: false as const, stderr: stderr.trim() }
}

/**
 * Starts memcached on a free loopback port (and with `tls`, a TLS one); retries once on other ports. It speaks every
 * protocol (memcached's default, `-B auto`: binary, text and meta, told apart by a connection's first byte), or with
 * `asciiOnly` (`-B ascii`) text and meta only, refusing binary.
 */
export const startMemcached = async (
  options: {
    readonly memoryMb?: number
    readonly reqsPerEvent?: number | undefined
    readonly tls?: ServerCertificate | undefined
    readonly asciiOnly?: boolean | undefined
  } = {}
): Promise<BenchServer> => {
  const failures: Array<string> = []
  for (let attempt = 0; attempt < 2; attempt++) {
    const port = await freePort()
    const tls = options.tls === undefined ? undefined : { cert: options.tls, port: await freePort() }
    const started = await startOn(port, options.memoryMb ?? 1024, options.reqsPerEvent, tls, options.asciiOnly ?? false)
    if (!started.ok) {
      failures.push(`port ${port}: ${started.stderr || "no output"}`)
      continue
    }
    const { child, exit, args } = started
    const pid = child.pid ?? -1
    let stopped = false
    const killNow = () => {
      if (stopped) return
      stopped = true
      try {
        child.kill("SIGKILL")
      } catch {
        // already gone
      }
    }
    const onExit = () => killNow()
    const onSignal = (signal: NodeJS.Signals) => {
      killNow()
      process.stderr.write(`\nbench: ${signal}, memcached (pid ${pid}) stopped\n`)
      process.exit(130)
    }
    process.once("exit", onExit)
    process.once("SIGINT", onSignal)
    process.once("SIGTERM", onSignal)
    return {
      address: `${HOST}:${port}`,
      tlsAddress: tls === undefined ? undefined : `${HOST}:${tls.port}`,
      pid,
      version: memcachedVersion(),
      args: [BIN, ...args],
      stop: async () => {
        process.off("exit", onExit)
        process.off("SIGINT", onSignal)
        process.off("SIGTERM", onSignal)
        killNow()
        await Promise.race([exit, sleep(5_000)])
      }
    }
  }
  throw new Error(`memcached did not start (${BIN}; is it installed?): ${failures.join(" | ")}`)
}
