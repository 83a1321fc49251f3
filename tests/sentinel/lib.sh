#!/usr/bin/env bash
# Shared by the Sentinel tests: a master, a replica and sentinels, private
# redis-servers on loopback with passwords, stopped on exit however the test
# ends. Sourced after tests/lib.sh.
master_pw=master-pw-$RANDOM$RANDOM
sentinel_pw=sentinel-pw-$RANDOM$RANDOM
sentinel_ports=()
sentinel_pids=()

sentinel_cleanup() {
  for pid in "${sentinel_pids[@]}" ${replica_pid:-}; do kill -9 "$pid" 2>/dev/null; done
  for pid in "${sentinel_pids[@]}" ${replica_pid:-}; do wait "$pid" 2>/dev/null; done
  cleanup
}
trap sentinel_cleanup EXIT

mcli() { redis-cli --no-auth-warning -a "$master_pw" -p "$@"; } # PORT ARGS...: a data node
scli() { redis-cli --no-auth-warning -a "$sentinel_pw" -p "$@"; } # PORT ARGS...: a sentinel

# spawn_server PORT CLI ARGS...: a redis-server with ARGS (a "{port}" in them
# becomes PORT), answering PING through CLI. Sets spawned_pid.
spawn_server() {
  local port=$1 cli=$2
  shift 2
  redis-server "${@//\{port\}/$port}" &
  spawned_pid=$!
  for _ in $(seq 100); do
    "$cli" "$port" PING >/dev/null 2>&1 && return 0
    kill -0 "$spawned_pid" 2>/dev/null || break
    sleep 0.05
  done
  kill -9 "$spawned_pid" 2>/dev/null
  wait "$spawned_pid" 2>/dev/null
  return 1
}

# spawn_on_free_port CLI ARGS...: spawn_server on a free loopback port. Sets
# spawned_port, spawned_pid.
spawn_on_free_port() {
  for _ in 1 2 3 4 5 6 7 8; do
    spawned_port=$((20000 + RANDOM % 12000))
    spawn_server "$spawned_port" "$@" && return 0
  done
  echo "cannot start redis-server $*"
  exit 1
}

# start_sentinels N: the master (master_port, master_pid), its replica
# (replica_port, replica_pid) and N sentinels watching it as "m" (quorum 2),
# each knowing the others and the replica. Sets via_sentinels: rill's flags.
start_sentinels() {
  # Each in its own directory: a replica's full sync leaves its dump.rdb
  # there, which a restarted neighbour must not load. No 5 s wait before a
  # full sync.
  local i conf auth=(--requirepass "$master_pw" --masterauth "$master_pw"
    --repl-diskless-sync-delay 0)
  data_args=("${auth[@]}")
  start_redis "${auth[@]}"
  master_port=$port
  master_pid=$redis_pid
  mkdir -p "$dir/replica"
  spawn_on_free_port mcli --port "{port}" --bind 127.0.0.1 --save '' --dir "$dir/replica" \
    --logfile "$dir/replica.log" --replicaof 127.0.0.1 "$master_port" "${auth[@]}"
  replica_port=$spawned_port
  replica_pid=$spawned_pid
  for i in $(seq "$1"); do
    conf=$dir/sentinel-$i.conf # Sentinel rewrites it: one per sentinel
    cat >"$conf" <<CONF
bind 127.0.0.1
dir $dir
requirepass $sentinel_pw
sentinel monitor m 127.0.0.1 $master_port 2
sentinel auth-pass m $master_pw
sentinel down-after-milliseconds m 1000
sentinel failover-timeout m 10000
CONF
    spawn_on_free_port scli "$conf" --sentinel --port "{port}" --logfile "$dir/sentinel-$i.log"
    sentinel_ports+=("$spawned_port")
    sentinel_pids+=("$spawned_pid")
  done
  local list=()
  for i in "${sentinel_ports[@]}"; do list+=("127.0.0.1:$i"); done
  via_sentinels=(--redis.sentinels "$(IFS=,; echo "${list[*]}")" --redis.sentinel-master m)
  wait_until 30 sentinels_ready "$1" || { echo "the sentinels did not find each other"; exit 1; }
}

# synced PORT: the master at PORT has its replica connected and at its offset
# (WAIT would only count the calling client's own writes).
synced() {
  local info
  info=$(mcli "$1" INFO replication | tr -d '\r')
  grep -q '^connected_slaves:1' <<<"$info" \
    && [ "$(sed -n 's/^slave0:.*offset=\([0-9]*\).*/\1/p' <<<"$info")" \
      = "$(sed -n 's/^master_repl_offset://p' <<<"$info")" ]
}

# sentinels_ready N: each sentinel knows the N - 1 others and the replica.
sentinels_ready() {
  local p info
  for p in "${sentinel_ports[@]}"; do
    info=$(scli "$p" SENTINEL master m | paste - - | tr -d '\r')
    grep -q "^num-other-sentinels	$(($1 - 1))$" <<<"$info" || return 1
    grep -q "^num-slaves	1$" <<<"$info" || return 1
  done
}

# master_by_sentinel: the master's port, as the first sentinel says.
master_by_sentinel() { scli "${sentinel_ports[0]}" SENTINEL get-master-addr-by-name m | tail -n 1; }

# master_is PORT: the first sentinel names the master at PORT.
master_is() { [ "$(master_by_sentinel)" = "$1" ]; }

# drained_at PORT STREAM RECORD N: every seq 0..N-1 recorded and nothing
# pending for group g on the data node at PORT.
drained_at() {
  [ "$(distinct "$3")" -eq "$4" ] && [ "$(mcli "$1" XPENDING "$2" g | head -n 1)" = 0 ]
}

# rill_connections_at PORT CLI: rill's connections (by client name) there.
rill_connections_at() { "$2" "$1" CLIENT LIST | grep -c ' name=rill'; }
