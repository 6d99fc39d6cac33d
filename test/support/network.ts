/**
 * Network stand-ins for fault tests: a port nobody listens on, a server that accepts connections but never answers,
 * and one that answers binary-protocol requests as a test scripts it.
 */
import { Effect } from "effect"
import * as net from "node:net"
import { encodeRequest } from "../../src/engine/protocol.js"

/** A free loopback port with nothing listening on it. */
export const closedPort = Effect.async<number>((resume) => {
  const probe = net.createServer()
  probe.listen(0, "127.0.0.1", () => {
    const address = probe.address() as net.AddressInfo
    probe.close(() => resume(Effect.succeed(address.port)))
  })
})

export interface TestServer {
  readonly address: string
  /** Connections accepted so far. */
  readonly accepted: () => number
  /** Connections still open. */
  readonly open: () => number
  readonly close: () => Promise<void>
}

/** A TCP server on loopback that hands each connection it accepts to `serve`; closed with its scope. */
const loopbackServer = (serve: (socket: net.Socket) => void) =>
  Effect.acquireRelease(
    Effect.async<TestServer>((resume) => {
      const sockets = new Set<net.Socket>()
      let accepted = 0
      const server = net.createServer((socket) => {
        accepted++
        sockets.add(socket)
        socket.on("error", () => {})
        socket.on("close", () => sockets.delete(socket))
        serve(socket)
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
    (server) => Effect.promise(server.close)
  )

/** A TCP server on loopback that accepts connections and reads requests, but never answers. */
export const silentServer = loopbackServer((socket) => socket.on("data", () => {}))

/**
 * A TCP server on loopback that reads binary-protocol requests and hands each whole one to `serve`, with its socket
 * and the number of the connection it came on (0 for the first one accepted).
 */
export const binaryServer = (serve: (request: Buffer, socket: net.Socket, connection: number) => void) => {
  let connections = 0
  return loopbackServer((socket) => {
    const connection = connections++
    let pending = Buffer.alloc(0)
    socket.on("data", (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk])
      while (!socket.destroyed && pending.length >= 24 && pending.length >= 24 + pending.readUInt32BE(8)) {
        const length = 24 + pending.readUInt32BE(8)
        const request = pending.subarray(0, length)
        pending = pending.subarray(length)
        serve(request, socket, connection)
      }
    })
  })
}

/**
 * A TCP server on loopback that reads binary-protocol requests and, each time `batch` whole requests have come on a
 * connection, writes the frames `answer` makes of them (for servers that break the protocol's rules).
 */
export const scriptedServer = (batch: number, answer: (requests: ReadonlyArray<Buffer>) => ReadonlyArray<Buffer>) =>
  loopbackServer((socket) => {
    let pending = Buffer.alloc(0)
    const requests: Array<Buffer> = []
    socket.on("data", (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk])
      while (pending.length >= 24 && pending.length >= 24 + pending.readUInt32BE(8)) {
        const length = 24 + pending.readUInt32BE(8)
        requests.push(pending.subarray(0, length))
        pending = pending.subarray(length)
        if (requests.length === batch) socket.write(Buffer.concat(answer(requests.splice(0))))
      }
    })
  })

/**
 * The response memcached gives to `request`: its opcode and opaque, the response magic, `status`, and the given extras,
 * key and value.
 */
export const responseTo = (
  request: Buffer,
  { extras, key, status = 0, value }: {
    readonly status?: number
    readonly extras?: Buffer
    readonly key?: Buffer
    readonly value?: Buffer
  } = {}
): Buffer => {
  const response = encodeRequest(request[1]!, request.readUInt32BE(12), key, extras, value)
  response[0] = 0x81
  response.writeUInt16BE(status, 6)
  return response
}

/** The key of a binary-protocol request. */
export const keyOf = (request: Buffer): string =>
  request.subarray(24 + request[4]!, 24 + request[4]! + request.readUInt16BE(2)).toString()

/**
 * What memcached would answer to a get (GetK), set or no-op `request` against an empty cache that keeps nothing: a
 * miss, "stored", and the no-op's answer; quiet requests get no answer.
 */
export const emptyCacheAnswer = (request: Buffer): Buffer | undefined => {
  switch (request[1]) {
    case 0x0c: // GetK
      return responseTo(request, { status: 1, key: Buffer.from(keyOf(request)) })
    case 0x0d: // GetKQ
    case 0x11: // SetQ
      return undefined
    default:
      return responseTo(request)
  }
}

/** The response memcached gives to a GetK `request` that hits: flags 0, the request's key and opaque, `value`. */
export const getKHit = (request: Buffer, value: Buffer): Buffer => {
  const key = request.subarray(24 + request[4]!, 24 + request[4]! + request.readUInt16BE(2))
  // A response has a request's layout, with the response magic and a status (0, success) where the vbucket was.
  const response = encodeRequest(request[1]!, request.readUInt32BE(12), key, Buffer.alloc(4), value)
  response[0] = 0x81
  return response
}
