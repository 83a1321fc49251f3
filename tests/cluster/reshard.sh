#!/usr/bin/env bash
# A stream's hash slot is migrated to another master while one `rill node`
# consumes it (and two streams on the other masters): IMPORTING/MIGRATING,
# then MIGRATE of its keys (the stream with its group, its lease), then
# SETSLOT NODE - so rill meets UNBLOCKED, ASK and MOVED in turn. Nothing is
# lost or left pending, the other streams go on, the reader ends up on the
# new master, and the connections are those of docs/architecture.md again
# (one shared per master in use: the old master holds none of the streams now).
rill=$1
here=$(dirname "$0")
source "$here/../lib.sh"
source "$here/lib.sh"
start_cluster 3 0
n=30000
one_per_master 1 r # one stream per master; the first one's slot moves to the second's master
moving=${streams[0]}
source_port=$(master_of "$moving")
target_port=$(master_of "${streams[1]}")
slot=$(redis-cli -p "$port" CLUSTER KEYSLOT "$moving")
for s in "${streams[@]}"; do
  timeout 60 "$rill" produce --redis "$seeds" --stream "$s" --count $n >/dev/null \
    2>>"$dir/produce.log"
done
node_config "$dir/node.ini" seq,work "${streams[@]}"
rec=$dir/rec
"$rill" node --config "$dir/node.ini" --redis "$seeds" --record "$rec" --work-us 2000 \
  --redis.cluster-refresh=2s >"$dir/node.json" 2>"$dir/node.log" &
node=$!
children+=("$node")
sleep 3
before=$(wc -l <"$rec")
src_id=$(redis-cli -p "$source_port" CLUSTER MYID)
dst_id=$(redis-cli -p "$target_port" CLUSTER MYID)
echo "moving slot $slot ($moving) from $source_port to $target_port after $before entries"
redis-cli -p "$target_port" CLUSTER SETSLOT "$slot" IMPORTING "$src_id" >/dev/null
redis-cli -p "$source_port" CLUSTER SETSLOT "$slot" MIGRATING "$dst_id" >/dev/null
sleep 1
keys=$(redis-cli -p "$source_port" CLUSTER GETKEYSINSLOT "$slot" 100)
echo "keys in the slot: $(echo $keys)"
# shellcheck disable=SC2086
redis-cli -p "$source_port" MIGRATE 127.0.0.1 "$target_port" "" 0 5000 KEYS $keys \
  >"$dir/migrate.out"
check "MIGRATE moved the stream" grep -q OK "$dir/migrate.out"
sleep 1 # commands for the slot get ASK now
for p in "${cluster_ports[@]}"; do
  redis-cli -p "$p" CLUSTER SETSLOT "$slot" NODE "$dst_id" >/dev/null
done
check "the slot is served by the target" test "$(master_of "$moving")" = "$target_port"

each_seq_3_times() {
  [ "$(sort -n "$rec" | uniq -c | awk '$1 >= 3' | wc -l)" -eq $n ]
}
check "every entry processed" wait_until 120 each_seq_3_times
check "nothing pending" wait_until 30 none_pending
check "the stream holds all $n entries on its new master" \
  test "$(redis-cli -p "$target_port" XLEN "$moving")" -eq $n
check "... and nothing of it is left on the old one" \
  test "$(redis-cli -p "$source_port" CLUSTER COUNTKEYSINSLOT "$slot")" -eq 0
lines=$(wc -l <"$rec")
echo "processed $lines times for $((3 * n)) entries ($((lines - 3 * n)) again)"
asking=$(redis-cli -p "$target_port" INFO commandstats | tr -d '\r' \
  | sed -n 's/^cmdstat_asking:calls=\([0-9]*\).*/\1/p')
check "rill followed ASK while the key sat on the target (ASKING x${asking:-0})" \
  test "${asking:-0}" -ge 1
check "its reader moved to the new master" grep -q "$moving is served by 127.0.0.1:$target_port" \
  "$dir/node.log"
# Two masters hold the three streams now: the shared connection to the old one
# is closed once idle.
check "connections again: 2 shared + 3 readers" wait_until 15 rill_connections_are 5
check "no request failed for good" test "$(grep -c ' error ' "$dir/node.log")" -eq 0
sigterm_exits_0 "$node" "the node stops on SIGTERM with 0"
finish
