// A facade-only program: no Effect code, seconds as numbers, errors as the library's own classes.
import { CacheNotFound, MemcachedCache } from "effect-memcached"

const servers = process.env.MEMCACHED_SERVERS
if (!servers) throw new Error("set MEMCACHED_SERVERS")

const rc = new MemcachedCache({ servers, serializer: "json" })
try {
  await rc.set("pack-check:hello", "world", 60)
  const value = await rc.get("pack-check:hello")
  const fallback = await rc.get("pack-check:nope", "default")
  const computed = await rc.getOrSet("pack-check:k", async (key) => `computed ${key}`, 60)
  const missing = await rc.get("pack-check:nope", undefined, true).then(() => undefined, (error: unknown) => error)
  const removed = await rc.remove("pack-check:hello", "pack-check:k")
  if (value !== "world" || fallback !== "default" || computed !== "computed pack-check:k" || !removed) {
    throw new Error(`unexpected: ${JSON.stringify({ value, fallback, computed, removed })}`)
  }
  if (!(missing instanceof CacheNotFound)) throw new Error(`expected CacheNotFound, got ${String(missing)}`)
} finally {
  await rc.close()
}
console.log("facade program: ok (real memcached)")
