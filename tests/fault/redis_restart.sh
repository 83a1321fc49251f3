#!/usr/bin/env bash
# Redis (AOF, appendfsync always) restarted mid-run: the consumer reconnects
# and finishes; every seq processed, nothing pending.
rill=$1
source "$(dirname "$0")/../lib.sh"
start_redis --appendonly yes --appendfsync always
n=50000
produce s $n
rec=$dir/seqs
"$rill" consume --redis "$addr" --stream s --group g --count 0 --max-in-flight 32 \
  --work-us 300 --record "$rec" --redis.reconnect-max=500ms >"$dir/out" 2>"$dir/log" &
pid=$!
children+=("$pid")
sleep 1
before=$(distinct "$rec")
restart_redis
sleep 1
restart_redis
echo "restarted Redis twice; $before entries were processed before"
check "restarted mid-run" test "$before" -lt $n
check "drained after restarts" wait_until 90 drained s g "$rec" $n
sigterm_exits_0 "$pid" "consumer exits 0"
check "every seq processed" test "$(distinct "$rec")" -eq $n
check "nothing pending" test "$(pending s g)" -eq 0
check "it noticed and recovered" grep -q "recovered" "$dir/log"
echo "duplicates: $(($(wc -l <"$rec") - $(distinct "$rec")))"
finish
