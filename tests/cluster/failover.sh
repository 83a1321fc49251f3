#!/usr/bin/env bash
# 3 masters + 3 replicas on loopback (cluster-node-timeout 2 s). One `rill node`
# consumes 6 streams, 2 per master, ~200,000 entries; a master is SIGKILLed
# mid-run and its replica takes over. Every entry (all replicated before the
# consume: WAIT) is processed at least once, nothing is pending at the end,
# the reader of the failed shard moves to the new master, the other shards
# never pause longer than the failover, and the connections are those of
# docs/architecture.md again afterwards.
rill=$1
here=$(dirname "$0")
source "$here/../lib.sh"
source "$here/lib.sh"
start_cluster 3 1
per_stream=33334
one_per_master 2 f # two streams per master, found by their slots
check "6 streams, 2 per master" test ${#streams[@]} -eq 6
for s in "${streams[@]}"; do
  timeout 60 "$rill" produce --redis "$seeds" --stream "$s" --count $per_stream >/dev/null \
    2>>"$dir/produce.log"
done
synced() { # every master's replica connected and at the master's offset
  local p info
  for p in "${cluster_ports[@]:0:3}"; do
    info=$(redis-cli -p "$p" INFO replication | tr -d '\r')
    grep -q '^connected_slaves:1' <<<"$info" || return 1
    [ "$(sed -n 's/^slave0:.*offset=\([0-9]*\).*/\1/p' <<<"$info")" \
      = "$(sed -n 's/^master_repl_offset://p' <<<"$info")" ] || return 1
  done
}
check "the replicas hold every entry before the run" wait_until 30 synced

node_config "$dir/node.ini" seq,work "${streams[@]}"
ports=$(IFS=,; echo "${cluster_ports[*]}")
python3 "$here/progress.py" poll "$dir/progress" g "$ports" "${streams[@]}" &
poller=$!
children+=("$poller")
rec=$dir/rec
"$rill" node --config "$dir/node.ini" --redis "$seeds" --record "$rec" --work-us 2000 \
  --redis.cluster-refresh=2s >"$dir/node.json" 2>"$dir/node.log" &
node=$!
children+=("$node")
sleep 4
victim_stream=${streams[0]}
victim=$(master_of "$victim_stream")
on_victim=()
for s in "${streams[@]}"; do [ "$(master_of "$s")" = "$victim" ] && on_victim+=("$s"); done
before=$(wc -l <"$rec")
victim_pid=
for i in "${!cluster_ports[@]}"; do
  [ "${cluster_ports[$i]}" = "$victim" ] && victim_pid=${cluster_pids[$i]}
done
kill_ms=$(date +%s%3N)
kill -9 "$victim_pid"
echo "killed master $victim (streams ${on_victim[*]}) after $before entries"
check "the kill came mid-run" test "$before" -gt 1000 -a "$before" -lt $((per_stream * 5))

each_seq_6_times() {
  [ -f "$rec" ] && [ "$(sort -n "$rec" | uniq -c | awk '$1 >= 6' | wc -l)" -eq $per_stream ]
}
live_port() { # a surviving node, for ccli
  local p
  for p in "${cluster_ports[@]}"; do [ "$p" != "$victim" ] && echo "$p" && return; done
}
port=$(live_port)
check "every entry processed at least once" wait_until 120 each_seq_6_times
check "nothing pending on any stream" wait_until 30 none_pending
still=0
for s in "${streams[@]}"; do still=$((still + $(ccli XLEN "$s"))); done
check "the streams still hold all $((per_stream * 6)) entries" test "$still" -eq $((per_stream * 6))
lines=$(wc -l <"$rec")
echo "processed $lines times for $((per_stream * 6)) entries ($((lines - per_stream * 6)) again)"
check "the failed shard's readers moved to the promoted replica" \
  test "$(grep -c "is served by" "$dir/node.log")" -ge ${#on_victim[@]}
check "connections again 3 shared + 6 readers" wait_until 15 rill_connections_are 9 "$victim"
echo "connections: $(rill_connections "$victim")"
kill -TERM "$poller"
wait "$poller" 2>/dev/null
sigterm_exits_0 "$node" "the node stops on SIGTERM with 0"
gaps=$(python3 "$here/progress.py" gaps "$dir/progress" "$kill_ms" "$(IFS=,; echo "${on_victim[*]}")" \
  "${streams[@]}")
echo "progress: $gaps"
pause=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['failed_shard_pause_ms'])" "$gaps")
others=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['others_longest_gap_ms'])" \
  "$gaps")
check "the failed shard went on after ${pause} ms" test "$pause" -gt 0 -a "$pause" -lt 20000
check "the other shards paused ${others} ms at most, less than the failover" \
  test "$others" -lt "$pause"
finish
