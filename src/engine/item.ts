/**
 * The one shape of a stored value: its bytes with memcached's 32-bit item flags, as the client and the in-memory store
 * read and write it, as `Memcached` hands it on and as a serializer makes it.
 *
 * It is a class, as is every object made per request, per value or per call (here `Item` and `CasItem`; `Flight`,
 * `Pending` and `QuietRange` in `connection.ts`; and the Effect side's own per-call objects). V8 tracks each object or
 * array literal as an "allocation site" and, once it has seen a site's objects survive a scavenge, may allocate that
 * site's objects straight in the old generation ("pretenuring"); every young object such an old one points to then
 * survives each scavenge too, and is copied, and promoted (on getMany this made 18% of the young generation survive
 * and each scavenge take about 7 ms instead of 1). `new` of a class has no allocation site.
 *
 * @internal
 */

/**
 * A value as bytes, with memcached's 32-bit item flags. Public as `Item` of `Memcached`; any `{ value, flags }` object
 * is one.
 */
export class Item {
  constructor(readonly value: Uint8Array, readonly flags: number) {}
}

/**
 * @internal An item whose value is text not yet encoded: the binary protocol writes it into the request frame as
 * UTF-8, with no buffer of its own; its bytes are made only if something reads `value`. A long string's item on the
 * paths that send it at once (see `longTextItem`): a fresh buffer of hundreds of KiB per write is memory outside V8's
 * heap, and enough of it sets off full collections.
 */
export class TextItem {
  #bytes: Uint8Array | undefined = undefined
  /** The value's length in UTF-8 bytes. */
  readonly size: number
  constructor(readonly text: string, readonly flags: number) {
    this.size = Buffer.byteLength(text, "utf8")
  }
  get value(): Uint8Array {
    return this.#bytes ??= Buffer.from(this.text, "utf8")
  }
}

/** @internal An item's value's length in bytes, without encoding a `TextItem`'s text. */
export const sizeOf = (item: Item): number => item instanceof TextItem ? item.size : item.value.length

/** An item with the CAS token memcached gave its current version. Public as `CasItem` of `Memcached`. */
export class CasItem extends Item {
  constructor(value: Uint8Array, flags: number, readonly cas: bigint) {
    super(value, flags)
  }
}

/** @internal How a write treats a key that exists: `set` overwrites, `add` only creates, `replace` only overwrites. */
export type WriteMode = "set" | "add" | "replace"

/**
 * @internal memcached's answer to a lease read over meta (`mg <key> v f k N<ttl>`): the item, unless the key holds
 * only the placeholder that the read (or an earlier one) created on a miss; whether this read won the right to compute
 * the value (`W`); whether the item is stale (`X`, invalidated by `md <key> I`). Neither an item nor a win: another
 * caller is computing it (`Z`).
 */
export class LeaseAnswer {
  constructor(readonly item: Item | undefined, readonly win: boolean, readonly stale: boolean) {}
}
