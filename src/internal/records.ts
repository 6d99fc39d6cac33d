/**
 * The small records made on every operation, as class instances rather than object literals.
 *
 * V8 tracks each object or array literal as an "allocation site" and, once it has seen a site's objects survive a
 * scavenge, may allocate that site's objects straight in the old generation ("pretenuring"). Every young object such
 * an old one points to then survives each scavenge as well, and is copied, and promoted. On getMany this made 18% of
 * the young generation survive and each scavenge take about 7 ms instead of 1. `new` of a class has no allocation
 * site, so the objects that reads, writes and batches make per request, per value and per call are classes: here,
 * `Flight`, `Pending` and `QuietRange` in `connection.ts`, and `Call` in `promiseRunner.ts`.
 *
 * @internal
 */
import type { Ttl, WriteOptions } from "../Memcached.js"
import type { Encoded } from "../Serializer.js"
import type { StoredItem } from "./store.js"

/** @internal A value's bytes with its memcached flags, as stores read and write them. */
export class ItemRecord implements StoredItem {
  constructor(readonly value: Uint8Array, readonly flags: number) {}
}

/** @internal A value's bytes with its memcached flags, as serializers write and read them. */
export class EncodedRecord implements Encoded {
  constructor(readonly bytes: Uint8Array, readonly flags: number) {}
}

/** @internal The flags and TTL of one write. */
export class WriteRecord implements WriteOptions {
  constructor(readonly flags: number, readonly ttl: Ttl | undefined) {}
}
