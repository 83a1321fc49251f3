#!/usr/bin/env bash
# Shared by the cluster tests: a Redis Cluster of private redis-servers on
# loopback (each node also listens on its bus port, port + 10000), stopped on
# exit however the test ends. Sourced after tests/lib.sh.
cluster_pids=()
cluster_ports=()

cluster_cleanup() {
  for pid in "${cluster_pids[@]}"; do kill -9 "$pid" 2>/dev/null; done
  for pid in "${cluster_pids[@]}"; do wait "$pid" 2>/dev/null; done
  cleanup
}
trap cluster_cleanup EXIT

# start_node PORT: one cluster-enabled redis-server (plus $CLUSTER_ARGS).
start_node() {
  local p=$1
  mkdir -p "$dir/node-$p"
  redis-server --port "$p" --bind 127.0.0.1 --cluster-enabled yes \
    --cluster-config-file "$dir/node-$p/nodes.conf" --cluster-node-timeout 2000 \
    --save '' --appendonly no --dir "$dir/node-$p" --logfile "$dir/node-$p/redis.log" \
    ${CLUSTER_ARGS:-} &
  cluster_pids+=($!)
}

# start_cluster MASTERS REPLICAS_PER_MASTER: sets cluster_ports (masters
# first), seeds ("h:p,h:p,..."), port (the first node, for rcli).
start_cluster() {
  masters=$1
  local replicas=$2
  local nodes=$((masters * (1 + replicas))) attempt i p up
  for attempt in 1 2 3 4 5; do
    # Ports p and p + 10000 (its bus) must both be free: below 55535, and
    # another range if any node cannot bind.
    local base=$((20000 + (RANDOM % 3000) * 10))
    cluster_ports=()
    for i in $(seq 0 $((nodes - 1))); do
      cluster_ports+=($((base + i)))
      start_node $((base + i))
    done
    up=1
    for p in "${cluster_ports[@]}"; do
      wait_until 10 redis-cli -p "$p" ping >/dev/null 2>&1 || { up=0; break; }
    done
    [ $up -eq 1 ] && break
    for pid in "${cluster_pids[@]}"; do kill -9 "$pid" 2>/dev/null; done
    cluster_pids=()
  done
  [ $up -eq 1 ] || { echo "cannot start $nodes cluster nodes"; exit 1; }
  local addrs=()
  for p in "${cluster_ports[@]}"; do addrs+=("127.0.0.1:$p"); done
  redis-cli --cluster create "${addrs[@]}" --cluster-replicas "$replicas" --cluster-yes \
    >"$dir/create.log" 2>&1 || { cat "$dir/create.log"; exit 1; }
  port=${cluster_ports[0]}
  addr=127.0.0.1:$port
  seeds=$(IFS=,; echo "${addrs[*]}")
  for p in "${cluster_ports[@]}"; do
    wait_until 30 cluster_ok "$p" || { echo "cluster not ok at $p"; exit 1; }
  done
}

cluster_ok() { redis-cli -p "$1" cluster info 2>/dev/null | grep -q 'cluster_state:ok'; }

# ccli ARGS...: redis-cli following redirects.
ccli() { redis-cli -c -p "$port" "$@"; }

# master_of KEY: the port of the master holding KEY's slot (asked of a live node).
master_of() {
  local slot p
  for p in "${cluster_ports[@]}"; do
    slot=$(redis-cli -p "$p" CLUSTER KEYSLOT "$1" 2>/dev/null) || continue
    [ -n "$slot" ] || continue
    redis-cli -p "$p" CLUSTER NODES | awk -v s="$slot" '
      $3 ~ /master/ && $3 !~ /fail/ {
        for (i = 9; i <= NF; i++) {
          if ($i ~ /^\[/) continue
          n = split($i, r, "-")
          if ((n == 2 && s >= r[1] && s <= r[2]) || (n == 1 && s == r[1])) {
            split($2, a, "[:@]"); print a[2]; exit
          }
        }
      }'
    return 0
  done
  return 1
}

# node_config FILE CALLBACKS STREAM...: a `rill node` config reading every
# STREAM (group g) with a local pool of 4 workers running CALLBACKS.
node_config() {
  local file=$1 callbacks=$2 s
  shift 2
  local readers=() pools=()
  for s in "$@"; do
    readers+=("\"stream=$s group=g\"")
    pools+=("\"stream=$s group=g workers=4 callbacks=$callbacks\"")
  done
  printf '[node]\nreaders = [%s]\nworkers = [%s]\n' "$(IFS=,; echo "${readers[*]}")" \
    "$(IFS=,; echo "${pools[*]}")" >"$file"
}

# one_per_master COUNT PREFIX: sets `streams` to PREFIX<i> names, COUNT per
# master (the first free ones by slot).
one_per_master() {
  local count=$1 prefix=$2 i m
  declare -A taken=()
  streams=()
  for i in $(seq 0 500); do
    m=$(master_of "$prefix$i")
    [ "${taken[$m]:-0}" -lt "$count" ] || continue
    taken[$m]=$((${taken[$m]:-0} + 1))
    streams+=("$prefix$i")
    [ ${#streams[@]} -eq $((count * masters)) ] && break
  done
}

# rill_connections [SKIP_PORT]: rill's connections (by client name) over every
# node but SKIP_PORT; replication links and other clients are not counted.
rill_connections() {
  local total=0 p
  for p in "${cluster_ports[@]}"; do
    [ "$p" = "${1:-}" ] && continue
    total=$((total + $(redis-cli -p "$p" CLIENT LIST | grep -c ' name=rill')))
  done
  echo "$total"
}
rill_connections_are() { [ "$(rill_connections "${2:-}")" -eq "$1" ]; }

# none_pending: group g has nothing pending on any of `streams`.
none_pending() {
  local s
  for s in "${streams[@]}"; do [ "$(ccli XPENDING "$s" g | head -n 1)" = 0 ] || return 1; done
}
