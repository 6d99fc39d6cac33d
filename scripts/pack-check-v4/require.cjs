// CommonJS callers on Node >= 22.12 (require() of ES modules): the package root and its subpaths; the engine is not
// reachable from outside.
const assert = require("node:assert/strict");
const root = require("effect-memcached");
for (const name of ["Serializer", "Flags", "CacheNotFound", "InvalidKey", "MemcachedError", "SerializationError"]) {
  assert.ok(root[name], `effect-memcached has no ${name}`);
}
assert.equal(require("effect-memcached/Serializer").Serializer, root.Serializer);
assert.equal(require("effect-memcached/errors").CacheNotFound, root.CacheNotFound);
assert.equal(require("effect-memcached/package.json").version, "2.0.0");
for (const hidden of ["effect-memcached/engine/client", "effect-memcached/errors/CacheNotFound"]) {
  assert.throws(() => require(hidden), { code: "ERR_PACKAGE_PATH_NOT_EXPORTED" }, hidden);
}
console.log("require(): ok");
