/**
 * The key rules as the Effect side reads them: the engine's (`engine/keys.ts`), with a bad key as `InvalidKey`.
 *
 * @internal
 */
import * as Either from "effect/Either"
import type { KeyProblem, KeyRules, WireKey } from "../engine/keys.js"
import { makeKeyEncoder as makeEncoder, notAString } from "../engine/keys.js"
import { InvalidKey } from "../errors/InvalidKey.js"

const invalid = (problem: KeyProblem): Either.Either<WireKey, InvalidKey> => Either.left(new InvalidKey(problem))

/**
 * Builds the checker for one layer's key rules: it validates a caller's key and returns its wire form, or
 * `InvalidKey`. Over-long keys become `prefix + "#" + sha256(key)` when `hashLongKeys` is on.
 *
 * @internal
 */
export const makeKeyEncoder = (rules: KeyRules): (key: unknown) => Either.Either<WireKey, InvalidKey> =>
  makeEncoder<Either.Either<WireKey, InvalidKey>>(rules, Either.right, invalid)

/** @internal The error for a key that is not a string, as every backend and the cache report it. */
export const notAStringKey = (key: unknown): InvalidKey => new InvalidKey(notAString(key))
