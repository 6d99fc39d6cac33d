/**
 * A test resource that runs a real `memcached` process on a free loopback port.
 *
 * Every process started here is owned by the scope that started it: releasing
 * the scope kills exactly that process (by its ChildProcess handle / pid) and
 * waits for it to exit. Nothing is ever killed by name.
 *
 * All waiting inside this module (readiness polling, exit waiting, timeouts)
 * uses the live clock, so it works the same under `it.effect` / `it.scoped`
 * (which install a TestClock) as under `it.live`.
 */
import { Clock, Context, Duration, Effect, Layer } from "effect"
import type { Scope } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"

/** Options for {@link startMemcached}. */
export interface MemcachedServerOptions {
  /**
   * When given, memcached is started with SASL authentication (`-S`, binary
   * protocol only) and a private sasldb holding exactly this one user.
   */
  readonly sasl?: { readonly username: string; readonly password: string } | undefined
  /**
   * When given, memcached is started with text-protocol authentication (`-Y`): an auth file holding exactly this
   * one user. It speaks no binary then (`-B ascii`).
   */
  readonly authFile?: { readonly username: string; readonly password: string } | undefined
  /** Extra command-line arguments appended to the memcached invocation. */
  readonly extraArgs?: ReadonlyArray<string> | undefined
  /** When given, memcached speaks only TLS (`-Z`) on its port, with this certificate. */
  readonly tls?: MemcachedTlsOptions | undefined
}

/** A TLS memcached's certificate and, for mutual TLS, the CA it trusts for client certificates. */
export interface MemcachedTlsOptions {
  /** PEM files, readable by `nobody` when the tests run as root. */
  readonly certFile: string
  readonly keyFile: string
  /** With `clientCaFile`, clients must present a certificate signed by it (`ssl_verify_mode=2`). */
  readonly clientCaFile?: string | undefined
}

/** A running memcached process, as handed out by {@link startMemcached}. */
export interface RunningServer {
  /** Always the IPv4 loopback address. */
  readonly host: "127.0.0.1"
  /** The TCP port; stays the same across {@link RunningServer.restart}. */
  readonly port: number
  /** `"127.0.0.1:<port>"`, ready to hand to a client. */
  readonly address: string
  /** The pid of the current process (changes after a restart). */
  readonly pid: number
  /**
   * Sends `signal` (default `SIGKILL`) to the current process and waits until
   * it has exited. A no-op if it already exited.
   */
  kill(signal?: NodeJS.Signals): Effect.Effect<void>
  /** Freezes the process with `SIGSTOP`; connections are accepted by the kernel but never answered. */
  stop(): Effect.Effect<void>
  /** Unfreezes the process with `SIGCONT`. */
  resume(): Effect.Effect<void>
  /**
   * Kills the current process if it is still alive, waits for it to exit, then
   * starts a fresh memcached (empty cache) on the SAME port and waits until it
   * accepts connections.
   */
  restart(): Effect.Effect<void>
}

const MEMCACHED_BIN = existsSync("/usr/bin/memcached") ? "/usr/bin/memcached" : "memcached"
const SASLPASSWD2_BIN = existsSync("/usr/sbin/saslpasswd2") ? "/usr/sbin/saslpasswd2" : "saslpasswd2"
const HOST = "127.0.0.1" as const
const READY_TIMEOUT_MS = 5_000
const READY_POLL_MS = 20
const EXIT_TIMEOUT_MS = 5_000
const STDERR_LIMIT = 64 * 1024

/** The real clock: the harness must not depend on a TestClock being advanced. */
const liveClock = Clock.make()
const live = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> => Effect.withClock(self, liveClock)

const isRoot = (): boolean => process.getuid?.() === 0

/** One spawned memcached process plus what we observed about it. */
interface Proc {
  readonly child: ChildProcess
  readonly pid: number
  readonly port: number
  /** Resolves once the process has exited (or failed to spawn). */
  readonly exited: Promise<void>
  readonly hasExited: () => boolean
  readonly stderr: () => string
  readonly dispose: () => void
}

/** pids we own, killed synchronously if the test runner process exits abruptly. */
const ownedPids = new Set<number>()
let exitHookInstalled = false
const installExitHook = (): void => {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.once("exit", () => {
    for (const pid of ownedPids) {
      try {
        process.kill(pid, "SIGCONT")
        process.kill(pid, "SIGKILL")
      } catch {
        // already gone
      }
    }
  })
}

/** Finds a free loopback port by binding port 0 and closing the listener again. */
const freePort: Effect.Effect<number> = Effect.async<number, Error>((resume) => {
  const server = net.createServer()
  server.unref()
  server.once("error", (err) => resume(Effect.fail(err)))
  server.listen(0, HOST, () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(port > 0 ? Effect.succeed(port) : Effect.fail(new Error("could not read free port"))))
  })
}).pipe(Effect.orDie)

/** Tries one TCP connect; true if it was accepted. */
const canConnect = (port: number): Effect.Effect<boolean> =>
  Effect.async<boolean>((resume) => {
    const socket = net.connect({ host: HOST, port })
    let done = false
    const finish = (ok: boolean) => {
      if (done) return
      done = true
      socket.destroy()
      resume(Effect.succeed(ok))
    }
    socket.once("connect", () => finish(true))
    socket.once("error", () => finish(false))
    socket.setTimeout(500, () => finish(false))
    return Effect.sync(() => {
      done = true
      socket.destroy()
    })
  })

const memcachedArgs = (port: number, options: MemcachedServerOptions, authDir?: string): Array<string> => {
  const args = ["-l", HOST, "-p", String(port), "-U", "0", "-t", "2", "-c", "4096"]
  // memcached refuses to run as root unless told which user to drop to.
  if (isRoot()) args.push("-u", "nobody")
  if (options.sasl !== undefined) args.push("-S")
  if (options.tls !== undefined) {
    const { certFile, clientCaFile, keyFile } = options.tls
    const client = clientCaFile === undefined ? "" : `,ssl_ca_cert=${clientCaFile},ssl_verify_mode=2`
    args.push("-Z", "-o", `ssl_chain_cert=${certFile},ssl_key=${keyFile}${client}`)
  }
  if (authDir !== undefined) args.push("-B", "ascii", "-Y", path.join(authDir, "auth"))
  if (options.extraArgs !== undefined) args.push(...options.extraArgs)
  return args
}

/** Spawns memcached; never fails (spawn errors show up as an exited process with stderr). */
const spawnMemcached = (
  port: number,
  options: MemcachedServerOptions,
  saslDir: string | undefined
): Effect.Effect<Proc> =>
  Effect.sync(() => {
    const env: NodeJS.ProcessEnv = { ...process.env }
    if (saslDir !== undefined && options.sasl !== undefined) env["SASL_CONF_PATH"] = saslDir
    const child = spawn(MEMCACHED_BIN, memcachedArgs(port, options, options.authFile ? saslDir : undefined), {
      stdio: ["ignore", "ignore", "pipe"],
      env
    })
    let stderr = ""
    child.stderr?.setEncoding("utf8")
    child.stderr?.on("data", (chunk: string) => {
      if (stderr.length < STDERR_LIMIT) stderr += chunk
    })
    let exited = false
    const pid = child.pid ?? -1
    if (pid > 0) {
      installExitHook()
      ownedPids.add(pid)
    }
    const exitedPromise = new Promise<void>((resolve) => {
      const onExit = () => {
        exited = true
        ownedPids.delete(pid)
        resolve()
      }
      child.once("exit", onExit)
      child.once("error", (err) => {
        stderr += `\n[spawn error] ${err.message}`
        // A process that never started emits no "exit".
        if (child.pid === undefined) onExit()
      })
    })
    return {
      child,
      pid,
      port,
      exited: exitedPromise,
      hasExited: () => exited,
      stderr: () => stderr.trim(),
      dispose: () => {
        child.stderr?.removeAllListeners("data")
        child.stderr?.destroy()
      }
    } satisfies Proc
  })

/** Waits (live clock) for the process to exit; dies if it does not within `EXIT_TIMEOUT_MS`. */
const awaitExit = (proc: Proc): Effect.Effect<void> =>
  Effect.promise(() => proc.exited).pipe(
    Effect.timeoutFail({
      duration: Duration.millis(EXIT_TIMEOUT_MS),
      onTimeout: () => new Error(`memcached pid ${proc.pid} did not exit within ${EXIT_TIMEOUT_MS} ms`)
    }),
    Effect.orDie,
    live
  )

/** Sends a signal to exactly this process, ignoring "already gone". */
const signal = (proc: Proc, sig: NodeJS.Signals): Effect.Effect<void> =>
  Effect.sync(() => {
    if (proc.hasExited()) return
    try {
      proc.child.kill(sig)
    } catch {
      // process already gone
    }
  })

/** SIGCONT (in case it is frozen), SIGKILL, wait for exit. */
const forceKill = (proc: Proc): Effect.Effect<void> =>
  Effect.gen(function*() {
    yield* signal(proc, "SIGCONT")
    yield* signal(proc, "SIGKILL")
    yield* awaitExit(proc)
    proc.dispose()
  })

/** Polls a TCP connect every 20 ms for up to 5 s; stops early if the process exits. */
const awaitReady = (proc: Proc): Effect.Effect<boolean> =>
  Effect.gen(function*() {
    const deadline = Date.now() + READY_TIMEOUT_MS
    while (Date.now() < deadline) {
      if (proc.hasExited()) return false
      if (yield* canConnect(proc.port)) return !proc.hasExited()
      yield* Effect.sleep(Duration.millis(READY_POLL_MS))
    }
    return false
  }).pipe(live)

/** Reads the state letter from /proc/<pid>/stat (Linux); undefined if unavailable. */
const procState = (pid: number): Effect.Effect<string | undefined> =>
  Effect.promise(() =>
    readFile(`/proc/${pid}/stat`, "utf8").then(
      (text) => text.slice(text.lastIndexOf(")") + 2).charAt(0),
      () => undefined
    )
  )

/** Waits (up to 1 s) until /proc says the process is / is not stopped; best effort. */
const awaitStopped = (proc: Proc, stopped: boolean): Effect.Effect<void> =>
  Effect.gen(function*() {
    const deadline = Date.now() + 1_000
    while (Date.now() < deadline && !proc.hasExited()) {
      const state = yield* procState(proc.pid)
      if (state === undefined) return
      if ((state === "T" || state === "t") === stopped) return
      yield* Effect.sleep(Duration.millis(5))
    }
  }).pipe(live)

/** Creates a private SASL config dir with a sasldb holding one user. */
const makeSaslDir = (username: string, password: string): Effect.Effect<string> =>
  Effect.tryPromise({
    try: async () => {
      const dir = await mkdtemp(path.join(os.tmpdir(), "memcached-sasl-"))
      try {
        const sasldb = path.join(dir, "sasldb")
        // memcached uses gethostname() as the user realm; saslpasswd2's default
        // realm may be the FQDN instead, so pin it explicitly.
        await runSaslpasswd2(["-a", "memcached", "-c", "-p", "-u", os.hostname(), "-f", sasldb, username], password)
        await writeFile(path.join(dir, "memcached.conf"), `mech_list: plain\nsasldb_path: ${sasldb}\n`)
        if (isRoot()) {
          // memcached drops privileges to `nobody` BEFORE it initialises SASL,
          // so the (root-owned, 0700 / 0640) dir, config and sasldb must be
          // readable by others or libsasl silently falls back to /etc/sasldb2.
          await chmod(dir, 0o755)
          await chmod(sasldb, 0o644)
          await chmod(path.join(dir, "memcached.conf"), 0o644)
        }
        return dir
      } catch (err) {
        await rm(dir, { recursive: true, force: true })
        throw err
      }
    },
    catch: (err) => new Error(`SASL setup for memcached failed: ${String(err instanceof Error ? err.message : err)}`)
  }).pipe(Effect.orDie)

/** Creates a private dir with an auth file (`auth`, for `-Y`) holding one user, readable by the user memcached runs as. */
const makeAuthDir = (username: string, password: string): Effect.Effect<string> =>
  Effect.promise(async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "memcached-auth-"))
    await writeFile(path.join(dir, "auth"), `${username}:${password}\n`)
    await chmod(dir, 0o755)
    await chmod(path.join(dir, "auth"), 0o644)
    return dir
  })

const runSaslpasswd2 = (args: ReadonlyArray<string>, password: string): Promise<void> =>
  new Promise<void>((resolve, reject) => {
    const child = spawn(SASLPASSWD2_BIN, args, { stdio: ["pipe", "ignore", "pipe"] })
    let stderr = ""
    child.stderr.setEncoding("utf8")
    child.stderr.on("data", (chunk: string) => {
      stderr += chunk
    })
    child.once("error", reject)
    child.once("close", (code) => {
      if (code === 0) resolve()
      else reject(new Error(`${SASLPASSWD2_BIN} exited with ${code}: ${stderr.trim()}`))
    })
    child.stdin.end(password)
  })

/** Starts one process on `port` and waits for readiness; returns either it or its stderr. */
const startOn = (
  port: number,
  options: MemcachedServerOptions,
  saslDir: string | undefined
): Effect.Effect<{ readonly ok: true; readonly proc: Proc } | { readonly ok: false; readonly stderr: string }> =>
  Effect.gen(function*() {
    const proc = yield* spawnMemcached(port, options, saslDir)
    if (yield* awaitReady(proc)) return { ok: true as const, proc }
    yield* forceKill(proc)
    return { ok: false as const, stderr: `port ${port}: ${proc.stderr() || "(no stderr output)"}` }
  })

const describeArgs = (options: MemcachedServerOptions): string =>
  `${MEMCACHED_BIN} ${memcachedArgs(0, options).join(" ").replace("-p 0", "-p PORT")}`

const acquire = (options: MemcachedServerOptions) =>
  Effect.gen(function*() {
    // the private dir of the SASL config, or of the auth file
    const saslDir = options.sasl !== undefined
      ? yield* makeSaslDir(options.sasl.username, options.sasl.password)
      : options.authFile !== undefined
      ? yield* makeAuthDir(options.authFile.username, options.authFile.password)
      : undefined
    const cleanupDir = Effect.promise(() =>
      saslDir !== undefined ? rm(saslDir, { recursive: true, force: true }) : Promise.resolve()
    )

    // First attempt, then one retry on a fresh port.
    const failures: Array<string> = []
    let proc: Proc | undefined
    for (let attempt = 0; attempt < 2 && proc === undefined; attempt++) {
      const result = yield* startOn(yield* freePort, options, saslDir)
      if (result.ok) proc = result.proc
      else failures.push(result.stderr)
    }
    if (proc === undefined) {
      yield* cleanupDir
      return yield* Effect.dieMessage(
        `memcached did not come up (exited early, or not accepting connections within ${READY_TIMEOUT_MS} ms; 2 attempts) ` +
          `[${describeArgs(options)}]; stderr: ${failures.join(" | ")}`
      )
    }

    const port = proc.port
    let current: Proc = proc

    const server: RunningServer = {
      host: HOST,
      port,
      address: `${HOST}:${port}`,
      get pid() {
        return current.pid
      },
      kill: (sig: NodeJS.Signals = "SIGKILL") =>
        Effect.gen(function*() {
          const target = current
          if (target.hasExited()) return
          yield* signal(target, sig)
          // A stopped process only acts on non-KILL signals once continued.
          if (sig !== "SIGKILL" && sig !== "SIGSTOP") yield* signal(target, "SIGCONT")
          yield* awaitExit(target)
          target.dispose()
        }),
      stop: () =>
        Effect.gen(function*() {
          yield* signal(current, "SIGSTOP")
          yield* awaitStopped(current, true)
        }),
      resume: () =>
        Effect.gen(function*() {
          yield* signal(current, "SIGCONT")
          yield* awaitStopped(current, false)
        }),
      restart: () =>
        Effect.gen(function*() {
          yield* forceKill(current)
          // memcached sets SO_REUSEADDR, so the same port is immediately reusable;
          // retry a couple of times in case the port is briefly contended.
          const failures: Array<string> = []
          for (let attempt = 0; attempt < 3; attempt++) {
            const result = yield* startOn(port, options, saslDir)
            if (result.ok) {
              current = result.proc
              return
            }
            failures.push(result.stderr)
            yield* Effect.sleep(Duration.millis(50)).pipe(live)
          }
          return yield* Effect.dieMessage(
            `memcached restart on port ${port} failed (3 attempts); stderr: ${failures.join(" | ")}`
          )
        })
    }

    const release = Effect.gen(function*() {
      yield* forceKill(current)
      yield* cleanupDir
    })

    return { server, release }
  })

/**
 * Starts a real memcached (`memcached -l 127.0.0.1 -p PORT -U 0 -t 2 -c 4096`,
 * plus `-u nobody` when running as root) on a free loopback port and waits until
 * it accepts TCP connections. Retries once on a new port, then dies with
 * memcached's stderr. Closing the scope kills that process (SIGCONT, SIGKILL),
 * waits for it to exit and removes any SASL temp dir.
 */
export const startMemcached = (
  options: MemcachedServerOptions = {}
): Effect.Effect<RunningServer, never, Scope.Scope> =>
  Effect.acquireRelease(acquire(options), ({ release }) => release).pipe(
    Effect.map(({ server }) => server)
  )

/**
 * The memcached test server as a service. `MemcachedServer.layer` starts a plain
 * server; `MemcachedServer.layerSasl(user, pass)` starts one that requires SASL
 * PLAIN authentication (binary protocol only); `MemcachedServer.layerTls(tls)` one
 * that speaks only TLS.
 */
export class MemcachedServer extends Context.Tag("test/MemcachedServer")<MemcachedServer, RunningServer>() {
  /** A plain (no auth) memcached, alive for the lifetime of the layer. */
  static readonly layer: Layer.Layer<MemcachedServer> = Layer.scoped(MemcachedServer, startMemcached())

  /**
   * A memcached that speaks only the text and meta protocols (`-B ascii`): a binary request gets no answer but a
   * closed connection, so a client that says it speaks meta cannot quietly speak binary to it.
   */
  static readonly layerAscii: Layer.Layer<MemcachedServer> = Layer.scoped(
    MemcachedServer,
    startMemcached({ extraArgs: ["-B", "ascii"] })
  )

  /** A SASL-enabled memcached with a single user, alive for the lifetime of the layer. */
  static readonly layerSasl = (username: string, password: string): Layer.Layer<MemcachedServer> =>
    Layer.scoped(MemcachedServer, startMemcached({ sasl: { username, password } }))

  /** A memcached that speaks only TLS, alive for the lifetime of the layer. */
  static readonly layerTls = (tls: MemcachedTlsOptions): Layer.Layer<MemcachedServer> =>
    Layer.scoped(MemcachedServer, startMemcached({ tls }))
}
