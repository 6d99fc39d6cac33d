/**
 * The one shape of a stored value: its bytes with memcached's 32-bit item flags. Made per read, so a class (see
 * `connection.ts` on why objects made per request are class instances, not literals).
 *
 * @internal
 */

/** @internal A value's bytes with its memcached flags, as the stores read and write them. */
export class Item {
  constructor(readonly value: Uint8Array, readonly flags: number) {}
}

/** @internal An item with the CAS token memcached gave its current version. */
export class CasItem extends Item {
  constructor(value: Uint8Array, flags: number, readonly cas: bigint) {
    super(value, flags)
  }
}

/** @internal How a write treats a key that exists: `set` overwrites, `add` only creates, `replace` only overwrites. */
export type WriteMode = "set" | "add" | "replace"
