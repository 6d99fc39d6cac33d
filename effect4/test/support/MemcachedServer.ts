/**
 * A real memcached for the Effect 4 line's tests: `memcached -l 127.0.0.1 -p PORT -U 0 -t 2` (plus `-u nobody` as
 * root) on a free loopback port, ready once it accepts a TCP connection, killed when the layer is released (and when
 * the test process exits), restarted on the same port when asked, over TLS when asked. The Effect 3 line's richer
 * harness (SIGSTOP, SASL) is `../../test/support`.
 */
import { Context, Effect, Layer } from "effect"
import type { Scope } from "effect"
import { spawn } from "node:child_process"
import { existsSync } from "node:fs"
import * as net from "node:net"

const MEMCACHED_BIN = existsSync("/usr/bin/memcached") ? "/usr/bin/memcached" : "memcached"
const HOST = "127.0.0.1"
const READY_TIMEOUT_MS = 5_000

/** A running memcached. */
export interface RunningServer {
  readonly host: string
  readonly port: number
  /** `host:port`, as the `servers` option takes it. */
  readonly address: string
  /** Kills memcached and starts a fresh one (empty) on the same port, ready when this ends. */
  readonly restart: () => Effect.Effect<void>
}

/** How to start memcached. */
export interface ServerOptions {
  /** Speak only TLS (`-Z`) with this certificate (PEM files readable by `nobody` when the tests run as root). */
  readonly tls?: { readonly certFile: string; readonly keyFile: string } | undefined
  /** More arguments for its command line (`["-B", "ascii"]`). */
  readonly extraArgs?: ReadonlyArray<string> | undefined
}

const owned = new Set<number>()
process.once("exit", () => {
  for (const pid of owned) {
    try {
      process.kill(pid, "SIGKILL")
    } catch {
      // already gone
    }
  }
})

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once("error", reject)
    server.listen(0, HOST, () => {
      const address = server.address()
      server.close(() => typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")))
    })
  })

const canConnect = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = net.connect({ host: HOST, port })
    const finish = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.once("connect", () => finish(true))
    socket.once("error", () => finish(false))
    socket.setTimeout(500, () => finish(false))
  })

/** A process on `port`, ready once it accepts connections (killed if it does not come up). */
const spawnOn = async (port: number, options: ServerOptions) => {
  const args = ["-l", HOST, "-p", String(port), "-U", "0", "-t", "2", "-c", "4096"]
  if (process.getuid?.() === 0) args.push("-u", "nobody")
  if (options.tls) args.push("-Z", "-o", `ssl_chain_cert=${options.tls.certFile},ssl_key=${options.tls.keyFile}`)
  if (options.extraArgs) args.push(...options.extraArgs)
  const child = spawn(MEMCACHED_BIN, args, { stdio: "ignore" })
  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => resolve())
    child.once("error", () => resolve())
  })
  if (child.pid !== undefined) owned.add(child.pid)
  const kill = async () => {
    child.kill("SIGKILL")
    await exited
    if (child.pid !== undefined) owned.delete(child.pid)
  }
  const deadline = Date.now() + READY_TIMEOUT_MS
  while (!(await canConnect(port))) {
    if (Date.now() > deadline || child.exitCode !== null) {
      await kill()
      throw new Error(`memcached did not come up on ${HOST}:${port} within ${READY_TIMEOUT_MS} ms`)
    }
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return kill
}

/** Starts memcached and waits until it accepts connections; `stop` kills it and waits for its exit. */
const start = async (options: ServerOptions): Promise<RunningServer & { readonly stop: () => Promise<void> }> => {
  const port = await freePort()
  let kill = await spawnOn(port, options)
  const stop = () => kill()
  const restart = async () => {
    await kill()
    kill = await spawnOn(port, options)
  }
  return {
    host: HOST,
    port,
    address: `${HOST}:${port}`,
    stop,
    restart: () => Effect.promise(restart)
  }
}

/** A loopback port with nothing listening. */
export const closedPort: Effect.Effect<number> = Effect.promise(freePort)

/** A memcached alive for the rest of the scope. */
export const startMemcached = (options: ServerOptions = {}): Effect.Effect<RunningServer, never, Scope.Scope> =>
  Effect.acquireRelease(Effect.promise(() => start(options)), (server) => Effect.promise(server.stop))

/** The memcached test server as a service, alive for the lifetime of `MemcachedServer.layer`. */
export class MemcachedServer extends Context.Service<MemcachedServer, RunningServer>()("test/MemcachedServer") {
  static readonly layer: Layer.Layer<MemcachedServer> = Layer.effect(
    MemcachedServer,
    startMemcached()
  )
}
