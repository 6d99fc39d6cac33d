/**
 * Key placement (`src/engine/placement.ts`): ketama compatible with libmemcached's weighted MD5 ketama and with the
 * `memcached` npm package (`hashring`), and memjs's modulo.
 *
 * Where the reference vectors come from (generated once, outside this repository, then pasted here as literals):
 *
 * - "libmemcached": libmemcached 1.1.4 (Debian bookworm `libmemcached-dev`), a small C program that adds the servers
 *   with `memcached_server_add_with_weight(host, port, weight)` in the order listed, sets
 *   `MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED` and prints `memcached_generate_hash(key)` (the server index) per key. This is
 *   the placement pylibmc uses with `behaviors={"ketama_weighted": True}` (its `"hash"` then reads `"md5"`).
 * - "hashring": `memcached@2.2.2` from npm (which depends on `hashring@3.2.0`): `new Memcached({"host:port": weight,
 *   …}, {})` with its default `compatibility: "ketama"`, then `client.HashRing.get(key)` mapped back to the index.
 * - "memjs": `memjs@1.3.2`, `memjs.Client.create("h1:p1,h2:p2,…").getServer(key)`.
 *
 * Over 100,030 keys × 5 pools, and 5,000 keys × 45 more pools (random weights 1–20, 2–10 servers, mixed ports, and
 * 7, 14, 25, 47 and 50 equal servers), both flavours agreed with their reference on every key.
 */
import { assert, describe, it } from "@effect/vitest"
import { createHash } from "node:crypto"
import { ketama, modulo, type Placement, type PlacementNode } from "../src/engine/placement.js"

const node = (host: string, port: number, weight = 1): PlacementNode => ({ host, port, weight })

const KEYS = [
  ...Array.from({ length: 26 }, (_, i) => `key:${i}`),
  "user:1001:profile",
  "café",
  "ключ",
  "🔑"
] as const

interface Vector {
  readonly nodes: ReadonlyArray<PlacementNode>
  readonly libmemcached: ReadonlyArray<number>
  readonly hashring: ReadonlyArray<number>
}

const VECTORS: Record<string, Vector> = {
  "3 equal servers on the default port": {
    nodes: [node("10.0.0.1", 11211), node("10.0.0.2", 11211), node("10.0.0.3", 11211)],
    libmemcached: [1, 1, 0, 2, 1, 0, 0, 0, 1, 0, 1, 1, 1, 1, 2, 1, 2, 0, 0, 1, 2, 1, 0, 0, 2, 2, 0, 1, 0, 1],
    hashring: [1, 1, 0, 2, 1, 0, 0, 0, 1, 0, 1, 1, 1, 1, 2, 1, 2, 0, 0, 1, 2, 1, 0, 0, 2, 2, 0, 1, 0, 1]
  },
  "one host, three ports (11211 hashes without its port)": {
    nodes: [node("127.0.0.1", 11211), node("127.0.0.1", 11212), node("127.0.0.1", 11213)],
    libmemcached: [1, 0, 0, 0, 0, 1, 2, 2, 0, 1, 0, 0, 0, 2, 0, 1, 0, 0, 1, 0, 1, 2, 1, 0, 2, 0, 1, 2, 1, 1],
    hashring: [1, 0, 0, 0, 0, 1, 2, 2, 0, 1, 0, 0, 0, 2, 0, 1, 0, 0, 1, 0, 1, 2, 1, 0, 2, 0, 1, 2, 1, 1]
  },
  "weights 1, 2, 3, 4 (one on port 11311)": {
    nodes: [
      node("cache-a.internal", 11211, 1),
      node("cache-b.internal", 11211, 2),
      node("cache-c.internal", 11311, 3),
      node("cache-d.internal", 11211, 4)
    ],
    libmemcached: [0, 2, 3, 1, 1, 2, 3, 3, 2, 3, 0, 2, 1, 2, 3, 2, 3, 1, 3, 3, 3, 2, 0, 3, 0, 1, 3, 3, 2, 1],
    hashring: [0, 2, 3, 1, 1, 2, 3, 3, 2, 3, 0, 2, 1, 2, 3, 2, 3, 1, 3, 3, 3, 2, 0, 3, 0, 1, 3, 3, 2, 1]
  },
  "7 equal servers (hashring: 156 points each, libmemcached: 160)": {
    nodes: Array.from({ length: 7 }, (_, i) => node(`10.0.0.${i + 1}`, 11211)),
    libmemcached: [1, 5, 6, 2, 1, 3, 6, 4, 6, 0, 6, 5, 6, 1, 2, 1, 2, 6, 4, 1, 4, 6, 0, 3, 2, 5, 3, 4, 0, 3],
    hashring: [1, 5, 6, 2, 1, 3, 6, 4, 6, 0, 6, 5, 6, 1, 2, 1, 2, 6, 4, 1, 4, 6, 5, 3, 2, 5, 3, 4, 0, 3]
  },
  "weights 5, 3, 9, 18, 15 (the weight-3 server: libmemcached 44 points, hashring 48)": {
    nodes: [
      node("w1.example", 11211, 5),
      node("w2.example", 11211, 3),
      node("w3.example", 11211, 9),
      node("w4.example", 11211, 18),
      node("w5.example", 11211, 15)
    ],
    libmemcached: [2, 1, 3, 0, 3, 2, 2, 0, 4, 4, 0, 4, 3, 1, 2, 3, 4, 1, 3, 4, 4, 4, 4, 0, 4, 4, 3, 4, 3, 0],
    hashring: [2, 1, 3, 0, 3, 2, 2, 0, 4, 4, 0, 4, 3, 1, 2, 3, 4, 1, 3, 4, 4, 4, 4, 0, 4, 4, 3, 4, 3, 0]
  }
}

/** Keys on which the two real implementations disagree: [key, libmemcached index, hashring index]. */
const DIVERGING: Record<
  string,
  { readonly nodes: ReadonlyArray<PlacementNode>; readonly keys: ReadonlyArray<readonly [string, number, number]> }
> = {
  "7 equal servers": {
    nodes: VECTORS["7 equal servers (hashring: 156 points each, libmemcached: 160)"]!.nodes,
    keys: [["key:22", 0, 5], ["key:115", 0, 6], ["key:166", 0, 6], ["key:176", 4, 1], ["key:203", 0, 6]]
  },
  "weights 5, 3, 9, 18, 15": {
    nodes: VECTORS["weights 5, 3, 9, 18, 15 (the weight-3 server: libmemcached 44 points, hashring 48)"]!.nodes,
    keys: [["key:287", 4, 1], ["key:487", 3, 1], ["key:794", 3, 1], ["key:901", 3, 1], ["key:1800", 3, 1]]
  },
  // libmemcached's float arithmetic gives 25 equal servers 156 points each, hashring 160.
  "25 equal servers": {
    nodes: Array.from({ length: 25 }, (_, i) => node(`10.0.1.${i + 1}`, 11211)),
    keys: [["key:48", 8, 13], ["key:111", 10, 0], ["key:127", 13, 22], ["key:198", 20, 23], ["key:215", 21, 8]]
  }
}

const manyKeys = (count: number, prefix = "key:"): Array<string> =>
  Array.from({ length: count }, (_, i) => `${prefix}${i}`)

const placements = (placement: Placement, keys: ReadonlyArray<string>): Int32Array => {
  const out = new Int32Array(keys.length)
  keys.forEach((key, i) => (out[i] = placement.locate(key)))
  return out
}

const equalNodes = (count: number): Array<PlacementNode> =>
  Array.from({ length: count }, (_, i) => node(`10.1.0.${i + 1}`, 11211))

describe("ketama: reference vectors from libmemcached 1.1.4 and memcached@2.2.2 / hashring@3.2.0", () => {
  for (const [name, vector] of Object.entries(VECTORS)) {
    it(`libmemcached weighted ketama: ${name}`, () => {
      const placement = ketama(vector.nodes)
      assert.deepStrictEqual(KEYS.map((key) => placement.locate(key)), vector.libmemcached)
    })
    it(`memcached npm (hashring): ${name}`, () => {
      const placement = ketama(vector.nodes, { flavour: "hashring" })
      assert.deepStrictEqual(KEYS.map((key) => placement.locate(key)), vector.hashring)
    })
  }

  for (const [name, { keys, nodes }] of Object.entries(DIVERGING)) {
    it(`the flavours differ where the real implementations do: ${name}`, () => {
      const libmemcached = ketama(nodes, { flavour: "libmemcached" })
      const hashring = ketama(nodes, { flavour: "hashring" })
      for (const [key, expectedLibmemcached, expectedHashring] of keys) {
        assert.strictEqual(libmemcached.locate(key), expectedLibmemcached, `libmemcached ${key}`)
        assert.strictEqual(hashring.locate(key), expectedHashring, `hashring ${key}`)
      }
    })
  }

  it("a key whose hash equals a point belongs to that point's server (first point >= hash), in both", () => {
    // Found by searching `exact:<n>`: the first 4 bytes of each key's MD5 equal a continuum point of the 3-server
    // pool whose next point belongs to another server; libmemcached and memcached npm both answered these indices.
    const nodes = VECTORS["3 equal servers on the default port"]!.nodes
    const exact = [["exact:6194987", 417898548, 0], ["exact:9129593", 780303037, 1], [
      "exact:11914634",
      1620283441,
      0
    ]] as const
    for (const flavour of ["libmemcached", "hashring"] as const) {
      const placement = ketama(nodes, { flavour })
      for (const [key, hash, expected] of exact) {
        assert.strictEqual(createHash("md5").update(key).digest().readUInt32LE(0), hash)
        assert.strictEqual(placement.locate(key), expected, `${flavour} ${key}`)
      }
    }
  })

  it("libmemcached is the default flavour", () => {
    const nodes = DIVERGING["7 equal servers"]!.nodes
    const byDefault = ketama(nodes)
    for (const [key, expected] of DIVERGING["7 equal servers"]!.keys) {
      assert.strictEqual(byDefault.locate(key), expected)
    }
  })

  it("libmemcached treats weight 0 as 1 and port 0 as 11211 (checked against the C library)", () => {
    const keys = manyKeys(2000)
    const reference = placements(
      ketama([node("10.0.0.1", 11211, 1), node("10.0.0.2", 11211, 2), node("10.0.0.3", 11211, 1)]),
      keys
    )
    const zeroes = placements(
      ketama([node("10.0.0.1", 11211, 0), node("10.0.0.2", 11211, 2), node("10.0.0.3", 0, 1)]),
      keys
    )
    assert.deepStrictEqual(zeroes, reference)
  })
})

describe("ketama: the continuum", () => {
  /** An independent oracle: every point computed from the documented host strings, then a linear scan. */
  const oracle = (pointsOf: ReadonlyArray<ReadonlyArray<string>>) => {
    const points: Array<{ value: number; owner: number }> = []
    pointsOf.forEach((strings, owner) => {
      for (const text of strings) {
        const digest = createHash("md5").update(text).digest()
        for (let part = 0; part < 4; part++) points.push({ value: digest.readUInt32LE(part * 4), owner })
      }
    })
    return (key: string): number => {
      const hash = createHash("md5").update(key).digest().readUInt32LE(0)
      let best: { value: number; owner: number } | undefined
      let lowest = points[0]!
      for (const point of points) {
        if (point.value < lowest.value || (point.value === lowest.value && point.owner < lowest.owner)) lowest = point
        if (
          point.value >= hash &&
          (best === undefined || point.value < best.value || (point.value === best.value && point.owner < best.owner))
        ) {
          best = point
        }
      }
      return (best ?? lowest).owner
    }
  }

  it("hashes `host-i` on the default port and `host:port-i` on any other, 40 digests × 4 points each", () => {
    const strings = (prefix: string) => Array.from({ length: 40 }, (_, i) => `${prefix}-${i}`)
    const expected = oracle([strings("10.0.0.1"), strings("10.0.0.2:11212"), strings("cache.example:22122")])
    const nodes = [node("10.0.0.1", 11211), node("10.0.0.2", 11212), node("cache.example", 22122)]
    for (const flavour of ["libmemcached", "hashring"] as const) {
      const placement = ketama(nodes, { flavour })
      for (const key of manyKeys(3000)) assert.strictEqual(placement.locate(key), expected(key), `${flavour} ${key}`)
    }
  })

  it("the port is part of the identity of a node unless it is 11211", () => {
    const keys = manyKeys(1000)
    const onDefault = placements(ketama([node("a", 11211), node("b", 11211)]), keys)
    const onOther = placements(ketama([node("a", 11212), node("b", 11211)]), keys)
    assert.notDeepEqual(onOther, onDefault)
    // "a" on 11212 hashes "a:11212-<i>", exactly what a host literally named "a:11212" on 11211 hashes
    assert.deepStrictEqual(placements(ketama([node("a:11212", 11211), node("b", 11211)]), keys), onOther)
  })

  it("is deterministic: rebuilding the ring, or asking twice, gives the same answers", () => {
    const nodes = VECTORS["weights 1, 2, 3, 4 (one on port 11311)"]!.nodes
    const keys = manyKeys(5000)
    const first = placements(ketama(nodes), keys)
    assert.deepStrictEqual(placements(ketama(nodes), keys), first)
    assert.deepStrictEqual(placements(ketama([...nodes]), keys), first)
    const again = ketama(nodes)
    assert.deepStrictEqual(placements(again, keys), placements(again, keys))
  })

  it("spreads 100k keys over 3 equal servers within ±10% of a third each", () => {
    const counts = [0, 0, 0]
    const placement = ketama(equalNodes(3))
    for (const key of manyKeys(100_000)) counts[placement.locate(key)]!++
    for (const count of counts) {
      assert.isAtLeast(count, (100_000 / 3) * 0.9)
      assert.isAtMost(count, (100_000 / 3) * 1.1)
    }
  })

  it("spreads keys in proportion to weights", () => {
    const counts = [0, 0, 0]
    const placement = ketama([node("a", 11211, 1), node("b", 11211, 2), node("c", 11211, 5)])
    for (const key of manyKeys(100_000)) counts[placement.locate(key)]!++
    ;[1 / 8, 2 / 8, 5 / 8].forEach((share, i) => {
      assert.isAtLeast(counts[i]!, 100_000 * share * 0.85)
      assert.isAtMost(counts[i]!, 100_000 * share * 1.15)
    })
  })

  it("handles no node and a single node", () => {
    assert.strictEqual(ketama([]).locate("x"), -1)
    assert.strictEqual(ketama([]).locateAlive("x", () => true), -1)
    const one = ketama([node("only", 11211, 7)])
    assert.strictEqual(one.locate("x"), 0)
    assert.strictEqual(one.locateAlive("x", () => true), 0)
    assert.strictEqual(one.locateAlive("x", () => false), -1)
  })
})

describe("ketama: consistency when the pool changes", () => {
  const KEY_COUNT = 100_000
  const keys = manyKeys(KEY_COUNT)

  const growth = (from: number, flavour: "libmemcached" | "hashring") => {
    const nodes = equalNodes(from + 1)
    const before = placements(ketama(nodes.slice(0, from), { flavour }), keys)
    const after = placements(ketama(nodes, { flavour }), keys)
    let moved = 0
    let movedElsewhere = 0
    for (let i = 0; i < KEY_COUNT; i++) {
      if (before[i] !== after[i]) {
        moved++
        if (after[i] !== from) movedElsewhere++
      }
    }
    return { moved, movedElsewhere }
  }

  for (const from of [3, 5, 9]) {
    it(`adding server ${from + 1} to ${from} moves at most 1/${from + 1} + 5% of 100k keys, all onto the new server`, () => {
      const { moved, movedElsewhere } = growth(from, "libmemcached")
      assert.isAtMost(moved, KEY_COUNT * (1 / (from + 1) + 0.05))
      assert.isAtLeast(moved, KEY_COUNT * (1 / (from + 1) - 0.05))
      assert.strictEqual(movedElsewhere, 0)
    })
  }

  it("hashring 6 → 7: within the bound too, though old servers also trade keys (160 → 156 points each)", () => {
    const { moved, movedElsewhere } = growth(6, "hashring")
    assert.isAtMost(moved, KEY_COUNT * (1 / 7 + 0.05))
    assert.isAbove(movedElsewhere, 0)
    assert.strictEqual(growth(6, "libmemcached").movedElsewhere, 0)
  })

  for (const [count, removed] of [[3, 1], [5, 0], [5, 4]] as const) {
    it(`removing server ${removed} of ${count} moves only that server's keys`, () => {
      const nodes = equalNodes(count)
      const remaining = nodes.filter((_, i) => i !== removed)
      const before = placements(ketama(nodes), keys)
      const after = placements(ketama(remaining), keys)
      for (let i = 0; i < KEY_COUNT; i++) {
        const wasOn = before[i]!
        const nowOn = nodes.indexOf(remaining[after[i]!]!)
        if (wasOn === removed) assert.notStrictEqual(nowOn, removed)
        else if (nowOn !== wasOn) assert.fail(`${keys[i]} moved from ${wasOn} to ${nowOn}`)
      }
    })
  }
})

describe("ketama: locateAlive", () => {
  const nodes = equalNodes(5)
  const placement = ketama(nodes)
  const keys = manyKeys(20_000)

  it("equals locate when every node is alive", () => {
    for (const key of keys) assert.strictEqual(placement.locateAlive(key, () => true), placement.locate(key))
  })

  it("skips a dead node; keys of live nodes stay where they were", () => {
    const dead = 2
    let rerouted = 0
    for (const key of keys) {
      const home = placement.locate(key)
      const alive = placement.locateAlive(key, (i) => i !== dead)
      assert.notStrictEqual(alive, dead)
      if (home === dead) rerouted++
      else assert.strictEqual(alive, home)
    }
    assert.isAbove(rerouted, 0)
  })

  it("with equal weights, a dead node's keys go where a ring without it would put them (libmemcached auto-eject)", () => {
    const dead = 3
    const without = ketama(nodes.filter((_, i) => i !== dead))
    for (const key of keys) {
      const expected = nodes.indexOf(nodes.filter((_, i) => i !== dead)[without.locate(key)]!)
      assert.strictEqual(placement.locateAlive(key, (i) => i !== dead), expected)
    }
  })

  it("walks on past several dead nodes, and returns -1 when none is alive", () => {
    const alive = (i: number) => i === 4
    for (const key of keys.slice(0, 2000)) assert.strictEqual(placement.locateAlive(key, alive), 4)
    assert.strictEqual(placement.locateAlive("anything", () => false), -1)
  })

  it("falls back on a live node that owns no point when all the others are dead", () => {
    // weight 1 of 1,000,000 rounds down to 0 points
    const skewed = ketama([node("big", 11211, 999_999), node("tiny", 11211, 1)])
    assert.strictEqual(skewed.locate("x"), 0)
    assert.strictEqual(skewed.locateAlive("x", (i) => i === 1), 1)
  })
})

describe("modulo (memjs's own placement)", () => {
  // memjs@1.3.2 Client.create("10.0.0.1:11211,10.0.0.2:11211,10.0.0.3:11211").getServer(key), and the 5-server pool
  const MEMJS_3 = [0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 0, 2, 1, 0, 2, 1, 0, 2, 1, 0, 2, 1, 0, 2, 1, 0, 2, 0, 0, 2]
  const MEMJS_5 = [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 2, 1, 0, 4, 3, 2, 1, 0, 4, 3, 1, 0, 4, 3, 2, 1, 0, 1, 2, 0]

  it("matches memjs's getServer", () => {
    const three = modulo(VECTORS["3 equal servers on the default port"]!.nodes)
    assert.deepStrictEqual(KEYS.map((key) => three.locate(key)), MEMJS_3)
    const five = modulo(["a", "b", "c", "d", "e"].map((host) => node(host, 11211)))
    assert.deepStrictEqual(KEYS.map((key) => five.locate(key)), MEMJS_5)
  })

  it("fails over to the next index round the list, like memjs's server()", () => {
    const five = modulo(equalNodes(5))
    for (const key of manyKeys(1000)) {
      const home = five.locate(key)
      assert.strictEqual(five.locateAlive(key, (i) => i !== home), (home + 1) % 5)
      assert.strictEqual(five.locateAlive(key, () => true), home)
    }
    assert.strictEqual(five.locateAlive("k", () => false), -1)
    assert.strictEqual(modulo([]).locate("k"), -1)
    assert.strictEqual(modulo([node("one", 1)]).locate("k"), 0)
  })
})
