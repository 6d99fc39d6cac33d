/**
 * Key placement across a pool of memcached servers.
 *
 * `ketama` is a consistent-hashing ring that places every key on the same server as
 *
 * - libmemcached's weighted ketama (`MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED`, MD5), which is what
 *   pylibmc uses with `behaviors={"ketama_weighted": True}` and what the C library switches to
 *   by itself as soon as a server has a weight above 1 (flavour `"libmemcached"`, the default);
 * - the `memcached` npm package, which places keys with the `hashring` npm package in its
 *   default `compatibility: "ketama"` mode (flavour `"hashring"`).
 *
 * Both build the continuum the same way:
 *
 * - server `s` gets `points(s)` points, a multiple of 4: one MD5 digest per "virtual node"
 *   `i = 0, 1, …`, each digest cut into 4 little-endian 32-bit points;
 * - the string hashed for virtual node `i` is `"<host>-<i>"` when the port is 11211 and
 *   `"<host>:<port>-<i>"` otherwise;
 * - a key's hash is the first 4 bytes of MD5(key), little-endian; its server owns the first point
 *   `>= hash`, wrapping round to the first point; equal points are ordered by server index.
 *
 * They differ only in how many points a weighted server gets. With `n` servers, weight `w` and
 * total weight `W`:
 *
 * - libmemcached: `floor(float32(w / W) * 160 / 4 * n + 1e-10) * 4`, computed in 32-bit floats;
 * - hashring: `floor(w / W * 40 * n) * 4`, computed in 64-bit floats.
 *
 * So with 7, 14, 28, 49, … equal servers hashring gives each 156 points where libmemcached gives 160,
 * with 25, 47, 50, 55, … equal servers it is the other way round, and some weight mixes round
 * differently (e.g. weights 5,3,9,18,15); every other pool places keys identically in both.
 *
 * Not covered: pylibmc's plain `{"ketama": True}` (unweighted: 100 points per server, one per
 * digest, and the "default" one-at-a-time key hash, not MD5), and libmemcached's auto-eject, which
 * rebuilds the ring without the dead server: `locateAlive` instead walks past its points, which is
 * the same thing for equal weights and never moves a key between two live servers.
 *
 * `modulo` is memjs's own placement (`hashCode(key) % n`), kept for pools shared with plain memjs
 * clients.
 *
 * @internal
 */
import * as Crypto from "node:crypto"
import { DEFAULT_PORT } from "./servers.js"

/** @internal A server as placement sees it: the host string exactly as configured, port and weight. */
export interface PlacementNode {
  readonly host: string
  readonly port: number
  readonly weight: number
}

/** @internal Maps keys to indices into the array of nodes that the placement was built from. */
export interface Placement {
  /** index into the nodes array for a key (UTF-8 string); -1 only when there are no nodes */
  readonly locate: (key: string) => number
  /**
   * like locate, but skipping nodes for which `alive(i)` is false, walking the ring clockwise;
   * -1 if none alive
   */
  readonly locateAlive: (key: string, alive: (index: number) => boolean) => number
}

/** @internal Whose ketama continuum to reproduce: libmemcached's weighted ketama, or the `hashring` npm package's. */
export type KetamaFlavour = "libmemcached" | "hashring"

/** @internal Options of {@link ketama}. */
export interface KetamaOptions {
  /** defaults to `"libmemcached"` */
  readonly flavour?: KetamaFlavour
}

/** Room for a node index below a 32-bit point in one exactly representable double (2^53). */
const INDEX_SPACE = 2 ** 21

/** MD5 of a string's UTF-8 bytes; the one-shot `crypto.hash` (Node >= 20.12) is about twice as fast. */
const md5: (input: string) => Buffer = typeof Crypto.hash === "function"
  ? (input) => Crypto.hash("md5", input, "buffer")
  : (input) => Crypto.createHash("md5").update(input, "utf8").digest()

/** The key's position on the ring: the first 4 bytes of its MD5 digest, little-endian. */
const keyHash = (key: string): number => md5(key).readUInt32LE(0)

/** libmemcached stores weights as uint32 and turns a weight of 0 into 1. */
const libmemcachedWeight = (weight: number): number => {
  const truncated = Number.isFinite(weight) ? Math.trunc(weight) : 0
  return truncated >= 1 && truncated <= 0xffffffff ? truncated : 1
}

/** connection-parse (used by hashring) takes `+weight || 1`. */
const hashringWeight = (weight: number): number => (Number.isFinite(weight) && weight > 0 ? weight : 1)

const f32 = Math.fround

/** libmemcached update_continuum: every step in `float`, as the C expression is typed. */
const libmemcachedPoints = (weight: number, total: number, servers: number): number => {
  const pct = f32(f32(weight) / f32(total))
  const perHash = f32(f32(f32(pct * 160) / 4) * f32(servers))
  return Math.floor(f32(perHash + f32(0.0000000001))) * 4
}

/** hashring continuum(): `Math.floor(percentage * 40 * servers.length)` virtual nodes of 4 points. */
const hashringPoints = (weight: number, total: number, servers: number): number =>
  Math.floor((weight / total) * 40 * servers) * 4

/**
 * @internal
 * A ketama consistent-hashing placement, identical to libmemcached's weighted MD5 ketama (default)
 * or to the `hashring` npm package used by the `memcached` npm client.
 */
export const ketama = (
  nodes: ReadonlyArray<PlacementNode>,
  options?: KetamaOptions
): Placement => {
  const flavour = options?.flavour ?? "libmemcached"
  const count = nodes.length
  if (count >= INDEX_SPACE) throw new RangeError(`ketama: too many nodes (${count})`)
  const weights = nodes.map((node) =>
    flavour === "libmemcached" ? libmemcachedWeight(node.weight) : hashringWeight(node.weight)
  )
  const total = weights.reduce((sum, weight) => sum + weight, 0)
  const perServer = weights.map((weight) =>
    flavour === "libmemcached" ? libmemcachedPoints(weight, total, count) : hashringPoints(weight, total, count)
  )
  const size = perServer.reduce((sum, points) => sum + points, 0)

  // Each point packed as value * 2^21 + node index, so one numeric sort orders by (value, index).
  const packed = new Float64Array(size)
  let at = 0
  nodes.forEach((node, index) => {
    // libmemcached replaces a port of 0 by the default port; hashring hashes the port it was given. A node on the
    // default port hashes as `"<host>-<i>"`, without the port.
    const port = flavour === "libmemcached" && node.port === 0 ? DEFAULT_PORT : node.port
    const prefix = port === DEFAULT_PORT ? `${node.host}-` : `${node.host}:${port}-`
    const vnodes = perServer[index]! / 4
    for (let vnode = 0; vnode < vnodes; vnode++) {
      const digest = md5(prefix + vnode)
      for (let part = 0; part < 4; part++) {
        packed[at++] = digest.readUInt32LE(part * 4) * INDEX_SPACE + index
      }
    }
  })
  packed.sort()
  const points = new Uint32Array(size)
  const owners = new Int32Array(size)
  for (let i = 0; i < size; i++) {
    const value = packed[i]!
    const owner = value % INDEX_SPACE
    points[i] = (value - owner) / INDEX_SPACE
    owners[i] = owner
  }

  /** Position of the first point >= hash, wrapping to 0 past the last point. */
  const position = (hash: number): number => {
    let low = 0
    let high = size
    while (low < high) {
      const middle = (low + high) >>> 1
      if (points[middle]! < hash) low = middle + 1
      else high = middle
    }
    return low === size ? 0 : low
  }

  const locate = (key: string): number => {
    if (size === 0) return count === 0 ? -1 : 0
    if (count === 1) return 0
    return owners[position(keyHash(key))]!
  }

  const locateAlive = (key: string, alive: (index: number) => boolean): number => {
    if (size > 0) {
      const start = count === 1 ? 0 : position(keyHash(key))
      for (let step = 0; step < size; step++) {
        const owner = owners[(start + step) % size]!
        if (alive(owner)) return owner
      }
    }
    // Every node that owns points is dead: fall back on a live node that owns none (a weight
    // rounded down to 0 points), if there is one.
    for (let index = 0; index < count; index++) {
      if (perServer[index] === 0 && alive(index)) return index
    }
    return -1
  }

  return { locate, locateAlive }
}

/** memjs's `utils.hashCode`: Java's String.hashCode over UTF-16 code units, then `Math.abs`. */
const memjsHashCode = (key: string): number => {
  let hash = 0
  for (let i = 0; i < key.length; i++) {
    hash = (31 * hash + key.charCodeAt(i)) | 0
  }
  return Math.abs(hash)
}

/**
 * @internal
 * A placement from a plain `locate`, whose `locateAlive` tries the next index round the list.
 */
export const fromLocate = (count: number, locate: (key: string) => number): Placement => ({
  locate,
  locateAlive: (key, alive) => {
    const start = locate(key)
    if (start < 0) return -1
    for (let step = 0; step < count; step++) {
      const index = (start + step) % count
      if (alive(index)) return index
    }
    return -1
  }
})

/**
 * @internal
 * memjs's own placement, `hashCode(key) % n`, whose failover tries the next index round the list;
 * not consistent: changing the number of nodes moves most keys.
 */
export const modulo = (nodes: ReadonlyArray<PlacementNode>): Placement => {
  const count = nodes.length
  return fromLocate(count, (key) => (count === 0 ? -1 : count === 1 ? 0 : memjsHashCode(key) % count))
}
