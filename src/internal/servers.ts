/**
 * The servers option as the Effect side reads it: the engine's parsing (`engine/servers.ts`), with its problem as an
 * `Either`'s `Left`.
 *
 * @internal
 */
import * as Either from "effect/Either"
import type { ServerAddress } from "../engine/servers.js"
import { BadServers, parseServers as parse } from "../engine/servers.js"

/**
 * @internal Parses the servers option (`servers` is `unknown`: a value forced past the types is reported too); a
 * malformed entry is the `Left`, a sentence, never thrown.
 */
export const parseServers = (servers: unknown): Either.Either<ReadonlyArray<ServerAddress>, string> => {
  const parsed = parse(servers)
  return parsed instanceof BadServers ? Either.left(parsed.reason) : Either.right(parsed)
}
