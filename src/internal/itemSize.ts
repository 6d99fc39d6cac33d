/**
 * The item size rule as the Effect side reads it: the engine's (`engine/itemSize.ts`), with a value that does not fit
 * as `ValueTooLarge`.
 *
 * @internal
 */
import { tooLarge } from "../engine/itemSize.js"
import type { WireKey } from "../engine/keys.js"
import { ValueTooLarge } from "../errors/ValueTooLarge.js"

/** @internal The error for `size` bytes of value under `key`, which do not fit in one item. */
export const valueTooLarge = (maxItemSize: number, key: WireKey, size: number): ValueTooLarge =>
  new ValueTooLarge(tooLarge(maxItemSize, key, size))
