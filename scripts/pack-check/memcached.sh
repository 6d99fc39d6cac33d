# Sourced by the pack checks: start_memcached starts a memcached on a free loopback port (as nobody when root) and
# waits until it accepts connections; it sets $port and $memcached_pid; stop_memcached stops it (safe to call twice).
memcached_pid=""
start_memcached() {
  port=$(node -e 'const s = require("node:net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close() })')
  local user=()
  [ "$(id -u)" = 0 ] && user=(-u nobody)
  memcached -l 127.0.0.1 -p "$port" -U 0 "${user[@]}" &
  memcached_pid=$!
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "pack-check: memcached did not start on 127.0.0.1:$port" >&2
  return 1
}
stop_memcached() {
  if [ -n "$memcached_pid" ]; then kill "$memcached_pid" 2>/dev/null || true; wait "$memcached_pid" 2>/dev/null || true; fi
  memcached_pid=""
}
