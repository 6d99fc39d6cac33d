/**
 * Which placement a pool uses: the `placement` option, or the `getServer` of a client brought to `layerClient`.
 *
 * @internal
 */
import type { Placement } from "../engine/placement.js"
import { fromLocate, ketama, modulo } from "../engine/placement.js"
import type { ServerAddress, ServerSpec } from "../engine/servers.js"
import type { PlacementOption } from "./options.js"

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
