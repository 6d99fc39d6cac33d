// CommonJS callers: require() of the package root and of each subpath (Node >= 20.19 loads ES modules this way).
const assert = require("node:assert/strict");
const root = require("effect-memcached");
for (const name of ["Cache", "Memcached", "MemcachedCache", "MemcachedLive", "MemcachedTest", "CacheNotFound"]) {
  assert.ok(root[name], `effect-memcached has no ${name}`);
}
assert.equal(require("effect-memcached/MemcachedCache").MemcachedCache, root.MemcachedCache);
assert.equal(require("effect-memcached/MemcachedTest").MemcachedTest, root.MemcachedTest);
assert.equal(require("effect-memcached/errors").CacheNotFound, root.CacheNotFound);

const rc = new root.MemcachedCache({ layer: root.MemcachedTest });
rc.set("k", "v", 60)
  .then(() => rc.get("k"))
  .then((value) => assert.equal(value, "v"))
  .then(() => rc.close())
  .then(() => console.log("require(): ok"))
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
