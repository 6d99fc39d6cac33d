/**
 * The key rules as the Effect side reads them: the engine's (`engine/keys.ts`), with a bad key as `InvalidKey`.
 *
 * @internal
 */
import * as Result from "effect/Result"
import type { KeyProblem, KeyRules, WireKey } from "../../../src/engine/keys.js"
import { makeKeyEncoder as makeEncoder, notAString } from "../../../src/engine/keys.js"
import { InvalidKey } from "../errors/InvalidKey.js"

const invalid = (problem: KeyProblem): Result.Result<WireKey, InvalidKey> => Result.fail(new InvalidKey(problem))

/**
 * Builds the checker for one layer's key rules: it validates a caller's key and returns its wire form, or
 * `InvalidKey`. Over-long keys become `prefix + "#" + sha256(key)` when `hashLongKeys` is on.
 *
 * @internal
 */
export const makeKeyEncoder = (rules: KeyRules): (key: unknown) => Result.Result<WireKey, InvalidKey> =>
  makeEncoder<Result.Result<WireKey, InvalidKey>>(rules, Result.succeed, invalid)

/** @internal The error for a key that is not a string, as every backend and the cache report it. */
export const notAStringKey = (key: unknown): InvalidKey => new InvalidKey(notAString(key))
