/**
 * One TLS record's worth of bytes, and why requests are cut to it. memcached 1.6 stalls a TLS connection when a
 * request ends inside a record that holds more requests: it reads the request's last bytes, the rest of the record
 * waits decrypted inside OpenSSL, and memcached waits for its socket, which has nothing more to say, so the requests
 * fail by their deadline. (memcached 1.6.18 with `-Z`, 150 pipelined sets of 100 bytes in one 20 KB write: 119 were
 * answered.) So over TLS the engine writes whole requests, at most a record of them at a time, and a larger request
 * on its own (`connection.ts`), and builds no frame of several requests larger than a record (`encodeKeyBatch`,
 * meta's quiet reads). docs/memcached-tls-stall.md reproduces the stall without this library.
 *
 * @internal
 */

/** @internal The most plaintext bytes in one TLS record, and so in a frame that holds several requests. */
export const TLS_RECORD = 16 * 1024

/**
 * @internal Cuts a batch of `count` requests, the `i`th `sizeOf(i)` bytes long, into runs of at most a record, the
 * batch's `ending` bytes counted in each: where each run ends, in order (the last at `count`). A request larger than a
 * record makes a run of its own.
 */
export const recordRuns = (count: number, sizeOf: (i: number) => number, ending: number): Array<number> => {
  const ends: Array<number> = []
  let from = 0
  let size = ending
  for (let i = 0; i < count; i++) {
    const next = sizeOf(i)
    if (size + next > TLS_RECORD && i > from) {
      ends.push(i)
      from = i
      size = ending
    }
    size += next
  }
  ends.push(count)
  return ends
}
