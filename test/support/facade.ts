/**
 * Helpers of the facade tests: TTLs read back from a real memcached with its meta command `mg <key> t`, and
 * rejections checked to be the error itself.
 */
import { Runtime } from "effect"
import * as net from "node:net"
import { assert } from "vitest"

/** Remaining TTL in seconds as memcached reports it (`-1`: never expires), or `undefined` on a miss. */
export const metaTtl = (server: { readonly host: string; readonly port: number }, wireKey: string) =>
  new Promise<number | undefined>((resolve, reject) => {
    const socket = net.connect({ host: server.host, port: server.port })
    let received = ""
    socket.setTimeout(2000, () => {
      socket.destroy()
      reject(new Error("mg: no answer within 2 s"))
    })
    socket.once("connect", () => socket.write(`mg ${wireKey} t\r\n`))
    socket.on("data", (chunk: Buffer) => {
      received += chunk.toString("latin1")
      const eol = received.indexOf("\r\n")
      if (eol < 0) return
      const line = received.slice(0, eol)
      socket.destroy()
      if (line === "EN") return resolve(undefined)
      const match = /^HD t(-?\d+)$/.exec(line)
      return match ? resolve(Number(match[1])) : reject(new Error(`mg: unexpected ${JSON.stringify(line)}`))
    })
    socket.once("error", reject)
  })

/** memcached's clock ticks in whole seconds: a TTL of n reads back as n down to n - slack. */
export const assertTtl = async (
  server: { readonly host: string; readonly port: number },
  wireKey: string,
  expected: number,
  slack = 1
) => {
  const ttl = await metaTtl(server, wireKey)
  assert.isDefined(ttl, `${wireKey} should be stored`)
  assert.isTrue(ttl! <= expected && ttl! >= expected - slack, `ttl of ${wireKey} is ${ttl}, expected ${expected}`)
}

/** Awaits a rejection and checks it is the error itself (an instance of `type`), never a FiberFailure. */
export const rejection = async <T>(promise: Promise<unknown>, type: new(...args: Array<any>) => T): Promise<T> => {
  try {
    await promise
  } catch (error) {
    assert.isFalse(Runtime.isFiberFailure(error), "rejected with a FiberFailure instead of the error itself")
    assert.instanceOf(error, type)
    return error as T
  }
  return assert.fail("expected the promise to reject")
}
