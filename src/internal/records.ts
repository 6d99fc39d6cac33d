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
import type { Item } from "./backend.js"
import type { WriteOptions } from "./memcachedService.js"
import type { Ttl } from "./ttl.js"

/** @internal An `Item`: a value's bytes with its memcached flags, as backends, `Memcached` and serializers hand it on. */
export class ItemRecord implements Item {
  constructor(readonly value: Uint8Array, readonly flags: number) {}
}

/** @internal The flags and TTL of one write. */
export class WriteRecord implements WriteOptions {
  constructor(readonly flags: number, readonly ttl: Ttl | undefined) {}
}
