/** The workloads, their key spaces and values. Every side runs exactly the same operation for the same index. */

export type OpKind = "get" | "set" | "getMany" | "mix"

export interface Workload {
  /** For `--only=…`. */
  readonly id: string
  readonly title: string
  readonly op: OpKind
  /** Operations (or batches) in flight. */
  readonly concurrency: number
  /** Value size in bytes. */
  readonly size: number
  /** What one counted operation is. */
  readonly unit: "op" | "batch"
  /**
   * The shortest slice (see `repetition.ts`) worth measuring: a slice ends with its last operations draining, which
   * for values of 500 KiB (tens of ms each) would be a large share of a 100 ms slice.
   */
  readonly minSliceMs?: number
}

export const GET_MANY_KEYS = 100

export const workloads: ReadonlyArray<Workload> = [
  { id: "get-seq", title: "get 100 B, sequential", op: "get", concurrency: 1, size: 100, unit: "op" },
  { id: "get-c16", title: "get 100 B, 16 in flight", op: "get", concurrency: 16, size: 100, unit: "op" },
  { id: "get-c256", title: "get 100 B, 256 in flight", op: "get", concurrency: 256, size: 100, unit: "op" },
  { id: "set-seq", title: "set 100 B, sequential", op: "set", concurrency: 1, size: 100, unit: "op" },
  { id: "set-c16", title: "set 100 B, 16 in flight", op: "set", concurrency: 16, size: 100, unit: "op" },
  { id: "set-c256", title: "set 100 B, 256 in flight", op: "set", concurrency: 256, size: 100, unit: "op" },
  {
    id: "getmany-100",
    title: `getMany ${GET_MANY_KEYS} keys, sequential batches`,
    op: "getMany",
    concurrency: 1,
    size: 100,
    unit: "batch"
  },
  { id: "get-10k-c16", title: "get 10 KiB, 16 in flight", op: "get", concurrency: 16, size: 10 * 1024, unit: "op" },
  { id: "set-10k-c16", title: "set 10 KiB, 16 in flight", op: "set", concurrency: 16, size: 10 * 1024, unit: "op" },
  {
    id: "get-500k-c16",
    title: "get 500 KiB, 16 in flight",
    op: "get",
    concurrency: 16,
    size: 500 * 1024,
    unit: "op",
    minSliceMs: 250
  },
  {
    id: "set-500k-c16",
    title: "set 500 KiB, 16 in flight",
    op: "set",
    concurrency: 16,
    size: 500 * 1024,
    unit: "op",
    minSliceMs: 250
  },
  { id: "mix-c64", title: "90% get / 10% set 100 B, 64 in flight", op: "mix", concurrency: 64, size: 100, unit: "op" }
]

/**
 * Keys per value size: every get hits (each side writes its keys before the run, and rewrites them with equal values).
 * The 100 B key space (`--keys`) is larger than the library's cache of recently encoded keys (4,096): with 1,000 keys
 * every operation found its key already encoded, which an application with more keys than that does not get.
 */
export const DEFAULT_KEYS = 10_000
const keyCounts = (keys: number): Record<number, number> => ({ 100: keys, [10 * 1024]: 256, [500 * 1024]: 32 })

export interface DataSet {
  readonly size: number
  readonly keys: ReadonlyArray<string>
  /** ASCII, so the raw serializer reads it back as a string of the same length. */
  readonly value: string | Buffer
  /** getMany batches of `GET_MANY_KEYS` keys each, over the whole key space (100 B only). */
  readonly batches: ReadonlyArray<ReadonlyArray<string>>
}

const makeValue = (size: number, seed: number): string => {
  const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
  let out = ""
  let state = seed >>> 0
  const block = 4096
  let chunk = ""
  for (let i = 0; i < Math.min(size, block); i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    chunk += alphabet[state % alphabet.length]
  }
  while (out.length < size) out += chunk
  return out.slice(0, size)
}

/**
 * The keys and values of one side. `tag` (two characters, so every side's keys have the same length) keeps each side's
 * keys apart: a side reads only what its own serializer wrote.
 */
export const makeDataSets = (
  valuesAsBuffers: boolean,
  tag: string,
  keys100 = DEFAULT_KEYS
): ReadonlyMap<number, DataSet> => {
  const sets = new Map<number, DataSet>()
  for (const size of [100, 10 * 1024, 500 * 1024]) {
    const count = keyCounts(keys100)[size]!
    const keys = Array.from({ length: count }, (_, i) => `bench:${tag}:${size}:${i}`)
    const text = makeValue(size, size)
    const batches: Array<Array<string>> = []
    if (size === 100) {
      // Batches of distinct keys that cover the key space.
      for (let b = 0; b < Math.max(1, Math.floor(count / GET_MANY_KEYS)); b++) {
        batches.push(Array.from({ length: GET_MANY_KEYS }, (_, j) => keys[(b * GET_MANY_KEYS + j) % count]!))
      }
    }
    sets.set(size, { size, keys, value: valuesAsBuffers ? Buffer.from(text, "latin1") : text, batches })
  }
  return sets
}

/** Whether operation `i` of the 90/10 mix is a set: a fixed hash of the index, the same on every side. */
export const mixIsSet = (i: number): boolean => (Math.imul(i + 1, 0x9e3779b1) >>> 0) % 10 === 0
