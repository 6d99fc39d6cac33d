/**
 * Which placement a pool uses: the `placement` option, or the `getServer` of a client brought to `layerClient`.
 *
 * @internal
 */
import type { Placement } from "./placement.js"
import { fromLocate, ketama, modulo } from "./placement.js"
import type { ServerAddress, ServerSpec } from "./servers.js"

/**
 * Where each key lives in a pool: `"ketama"` (libmemcached's weighted ketama, MD5; pylibmc with `ketama_weighted`),
 * `"ketama-hashring"` (the `memcached` npm package), `"modulo"` (memjs's `hash % n`, not consistent), or your own
 * function from the servers to a key's server index. Public as `PlacementOption` of `Memcached` on both lines.
 *
 * @internal
 */
export type PlacementOption =
  | "ketama"
  | "ketama-hashring"
  | "modulo"
  | ((servers: ReadonlyArray<Required<ServerSpec>>) => (key: string) => number)

/**
 * @internal The placement over `addresses` that `option` names (ketama when left out, unless the client brought its
 * own `clientPlacement`). A function of the caller's that gives no valid index places the key on the first server.
 */
export const placementOf = (
  option: PlacementOption | undefined,
  addresses: ReadonlyArray<ServerAddress>,
  clientPlacement: ((key: string) => number) | undefined
): Placement => {
  const nodes = addresses.map(({ host, port, weight }) => ({ host, port, weight }))
  if (option === undefined && clientPlacement) return fromLocate(nodes.length, clientPlacement)
  switch (option ?? "ketama") {
    case "ketama":
      return ketama(nodes)
    case "ketama-hashring":
      return ketama(nodes, { flavour: "hashring" })
    case "modulo":
      return modulo(nodes)
    default: {
      const locate = (option as (servers: ReadonlyArray<Required<ServerSpec>>) => (key: string) => number)(nodes)
      return fromLocate(nodes.length, (key) => {
        const index = locate(key)
        return Number.isInteger(index) && index >= 0 && index < nodes.length ? index : 0
      })
    }
  }
}
