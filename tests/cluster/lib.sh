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
  local masters=$1 replicas=$2
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
