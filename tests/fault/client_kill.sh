#!/usr/bin/env bash
# Every client connection killed (CLIENT KILL TYPE normal) again and again
# during a run: every seq processed, nothing pending.
rill=$1
source "$(dirname "$0")/../lib.sh"
start_redis --appendonly no
n=50000
produce s $n
rec=$dir/seqs
"$rill" consume --redis "$addr" --stream s --group g --count 0 --max-in-flight 32 \
  --work-us 300 --record "$rec" --redis.reconnect-max=200ms >"$dir/out" 2>"$dir/log" &
pid=$!
children+=("$pid")
killed=0
for _ in $(seq 12); do
  sleep 0.25
  killed=$((killed + $(rcli CLIENT KILL TYPE normal)))
done
echo "killed $killed client connections"
check "connections were killed" test "$killed" -ge 12
check "drained" wait_until 90 drained s g "$rec" $n
sigterm_exits_0 "$pid" "consumer exits 0"
check "every seq processed" test "$(distinct "$rec")" -eq $n
check "nothing pending" test "$(pending s g)" -eq 0
echo "duplicates: $(($(wc -l <"$rec") - $(distinct "$rec")))"
finish
