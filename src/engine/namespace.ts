/**
 * Namespace versions, shared by both Effect lines (each line's `internal/cache/namespace.ts` runs them): every key of
 * namespace `name` lives under `<name>:<version>:`, the version is the counter `<name>:_version`, and a process keeps
 * one copy of each namespace's version per parent store.
 *
 * A missing version key (never created, or evicted) starts at the current time in milliseconds, so a version that came
 * back after an eviction is newer than every version before it, and old keys cannot resurface. A process never moves
 * its copy back to an older version.
 *
 * @internal
 */

/** @internal This process's copy of one namespace's version, and when it was read. */
export class VersionState {
  value: bigint | undefined = undefined
  readAt = 0

  /** Takes `version`, read at `readAt`, unless this copy is newer; returns the copy's version. */
  remember(version: bigint, readAt: number): bigint {
    if (this.value === undefined || version >= this.value) {
      this.value = version
      this.readAt = readAt
    }
    return this.value
  }

  /** The copy's version, if it was read less than `ttlMillis` before `now`. */
  fresh(now: number, ttlMillis: number): bigint | undefined {
    return this.value !== undefined && now - this.readAt < ttlMillis ? this.value : undefined
  }

  /**
   * The `initial` of the increment that clears the namespace at `now`: past every version this copy has seen, and not
   * before `now`.
   */
  clearFrom(now: number): bigint {
    const atLeast = versionAt(now)
    return this.value === undefined || atLeast > this.value ? atLeast : this.value + 1n
  }
}

/** @internal The version a namespace read at `now` starts from when its version key is missing. */
export const versionAt = (now: number): bigint => BigInt(Math.max(0, Math.floor(now)))

/** @internal The counter that holds namespace `name`'s version. */
export const versionKeyOf = (name: string): string => `${name}:_version`

/** @internal The prefix of namespace `name`'s keys at `version`. */
export const prefixOf = (name: string, version: bigint): string => `${name}:${version}:`

/**
 * @internal A key of the namespace under `prefix`. A key that is not a non-empty string goes through unchanged, so the
 * key rules report it as it was given.
 */
export const fullKey = (prefix: string, key: string): string =>
  typeof key === "string" && key.length > 0 ? prefix + key : key

/** @internal Checks a namespace name; throws a `TypeError` on an empty one (a programming error). */
export const checkNamespaceName = (name: unknown): void => {
  if (typeof name !== "string" || name.length === 0) {
    throw new TypeError(`a namespace name must be a non-empty string, got ${JSON.stringify(name)}`)
  }
}

/**
 * @internal The namespaces of one parent store: one version state per name (shared by views with different
 * `versionTtl`s) and one view per name and `versionTtl` (so views and what they hold are reused).
 */
export class NamespaceRegistry<View, Reads> {
  readonly #states = new Map<string, VersionState>()
  readonly #views = new Map<string, View>()
  /** One version read at a time per namespace name. */
  constructor(readonly reads: Reads) {}

  /** The view of `name` at `ttlMillis`, made by `make` over the name's version state the first time. */
  view(name: string, ttlMillis: number, make: (state: VersionState) => View): View {
    const id = `${ttlMillis}|${name}`
    const found = this.#views.get(id)
    if (found) return found
    let state = this.#states.get(name)
    if (!state) {
      state = new VersionState()
      this.#states.set(name, state)
    }
    const view = make(state)
    this.#views.set(id, view)
    return view
  }
}

/** @internal What a batch read under `prefix` found, by the caller's keys (`keys`, before `fullKey`). */
export const byCallerKey = <I>(keys: ReadonlyArray<string>, found: ReadonlyMap<string, I>, prefix: string) => {
  const byKey = new Map<string, I>()
  for (const key of keys) {
    const item = found.get(fullKey(prefix, key))
    if (item) byKey.set(key, item)
  }
  return byKey
}
