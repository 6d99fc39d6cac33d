/**
 * Network stand-ins for fault tests: a port nobody listens on, and a server that accepts connections but never
 * answers.
 */
import { Effect } from "effect"
import * as net from "node:net"

/** A free loopback port with nothing listening on it. */
export const closedPort = Effect.async<number>((resume) => {
  const probe = net.createServer()
  probe.listen(0, "127.0.0.1", () => {
    const address = probe.address() as net.AddressInfo
    probe.close(() => resume(Effect.succeed(address.port)))
  })
})

export interface SilentServer {
  readonly address: string
  /** Connections accepted so far. */
  readonly accepted: () => number
  /** Connections still open. */
  readonly open: () => number
  readonly close: () => Promise<void>
}

/** A TCP server on loopback that accepts connections and reads requests, but never answers. */
export const silentServer = Effect.acquireRelease(
  Effect.async<SilentServer>((resume) => {
    const sockets = new Set<net.Socket>()
    let accepted = 0
    const server = net.createServer((socket) => {
      accepted++
      sockets.add(socket)
      socket.on("data", () => {})
      socket.on("error", () => {})
      socket.on("close", () => sockets.delete(socket))
    })
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo
      resume(Effect.succeed({
        address: `127.0.0.1:${port}`,
        accepted: () => accepted,
        open: () => sockets.size,
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy()
            server.close(() => done())
          })
      }))
    })
  }),
  (silent) => Effect.promise(silent.close)
)
