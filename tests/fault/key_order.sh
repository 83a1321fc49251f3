#!/usr/bin/env bash
# consumer.order-by under a SIGKILL: 200,000 entries over 1,000 keys, 64
# workers with random 0-2 ms asynchronous work; the consumer is killed mid-run
# and restarted with the same name. In each run the seqs of every key start in
# stream order (the restart re-runs what was in flight, in order again), every
# seq is processed, nothing is pending, and the reader never held more than
# its window (64 workers + 64 waiting; sampled from /metrics). Then 2 hot
# keys, whose backlogs are parked in Redis, killed and restarted the same way.
rill=$1
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../observability/lib.sh"
start_redis --appendonly no
n=200000
keys=1000
"$rill" produce --redis "$addr" --stream s --count $n --keys $keys >/dev/null 2>"$dir/produce.log"
check "produced $n entries over $keys keys" test "$(rcli XLEN s)" -eq $n
# Another consumer active in the group: order holds within one consumer only.
rcli XGROUP CREATE s g 0 >/dev/null
rcli XGROUP CREATECONSUMER s g other >/dev/null
rec=$dir/seqs
consume() { # extra args
  "$rill" consume --redis "$addr" --stream s --group g --count 0 --max-in-flight 64 \
    --work-us 0-2000 --record "$rec" --consumer c --consumer.order-by=key "$@" \
    >>"$dir/out" 2>>"$dir/log" &
  pid=$!
  children+=("$pid")
}
consume --http.listen 127.0.0.1:0
touch "$rec"
hport=$(http_port_of "$dir/log")
over() { [ "$(wc -l <"$rec")" -gt "$1" ]; }
# The window, sampled from /metrics until the kill: in flight + waiting
# behind keys never above 64 workers + 64 (max-waiting = workers).
most=0
longest=0
while ! over 40000; do
  read -r flying waiting queue < <(metric "$hport" rill_in_flight rill_key_waiting_entries \
    rill_key_longest_queue | tr '\n' ' ')
  [ -n "${queue:-}" ] || break
  [ $((flying + waiting)) -gt $most ] && most=$((flying + waiting))
  [ "$queue" -gt $longest ] && longest=$queue
  sleep 0.1
done
kill -9 "$pid"
wait "$pid" 2>/dev/null
cut=$(wc -l <"$rec")
held=$(pending_of s g c)
echo "killed after $cut records with $held entries pending for it"
check "the kill came mid-run, holding entries" test "$cut" -lt $n -a "$held" -gt 0
echo "most held (in flight + waiting behind keys): $most, longest key queue: $longest"
check "the reader held at most its window (64 workers + 64 waiting)" \
  test "$most" -gt 0 -a "$most" -le 128
check "entries did wait behind their keys" test "$longest" -gt 0
consume
check "it warns of the other active consumer" grep -q "other active consumers (other)" "$dir/log"
check "drained after the restart" wait_until 120 drained s g "$rec" $n
sigterm_exits_0 "$pid" "the consumer exits 0 on SIGTERM"
out_of_order=$(python3 "$(dirname "$0")/key_order.py" "$rec" $keys "$cut")
lines=$(wc -l <"$rec")
echo "processed $lines times for $n entries ($((lines - n)) again); $out_of_order out of order"
check "every key's seqs started in stream order in each run" test "$out_of_order" -eq 0
check "every seq processed" test "$(distinct "$rec")" -eq $n
check "nothing pending" test "$(pending s g)" -eq 0
# -- Hot keys: 2 keys for 64 workers, so each key's backlog is parked (IDs only,
# read back with XRANGE); killed while entries are parked, and restarted.
rcli DEL s >/dev/null
"$rill" produce --redis "$addr" --stream s --count 10000 --keys 2 >/dev/null 2>>"$dir/produce.log"
: >"$rec"
hot() { # log, extra args
  "$rill" consume --redis "$addr" --stream s --group g --count 0 --max-in-flight 64 \
    --work-us 0-1000 --record "$rec" --consumer hot --consumer.order-by=key "${@:2}" \
    >>"$dir/out" 2>>"$1" &
  pid=$!
  children+=("$pid")
}
hot "$dir/hot.log" --http.listen 127.0.0.1:0
hport=$(http_port_of "$dir/hot.log")
parked_now() { metric "$hport" rill_key_parked_entries; }
parked_some() { [ "$(parked_now 2>/dev/null || echo 0)" -gt 100 ] && over 500; }
check "a hot key's backlog is parked" wait_until 30 parked_some
echo "parked when killed: $(parked_now), after $(wc -l <"$rec") records"
kill -9 "$pid"
wait "$pid" 2>/dev/null
cut=$(wc -l <"$rec")
hot "$dir/hot2.log"
check "drained after the restart" wait_until 60 drained s g "$rec" 10000
sigterm_exits_0 "$pid" "the consumer exits 0 on SIGTERM"
out_of_order=$(python3 "$(dirname "$0")/key_order.py" "$rec" 2 "$cut")
echo "hot keys: $(wc -l <"$rec") records for 10,000 entries; $out_of_order out of order"
check "parked entries ran in key order in each run" test "$out_of_order" -eq 0
check "every seq processed" test "$(distinct "$rec")" -eq 10000
check "nothing pending" test "$(pending s g)" -eq 0
# The same drill unordered does reorder keys: the check above can fail.
rcli DEL s >/dev/null
"$rill" produce --redis "$addr" --stream s --count 20000 --keys 10 >/dev/null 2>>"$dir/produce.log"
: >"$rec"
timeout 60 "$rill" consume --redis "$addr" --stream s --group g --count 20000 --max-in-flight 64 \
  --work-us 0-2000 --record "$rec" >/dev/null 2>>"$dir/log"
unordered=$(python3 "$(dirname "$0")/key_order.py" "$rec" 10)
echo "without order-by: $unordered of 20,000 started out of key order"
check "without order-by the same check sees reordering" test "$unordered" -gt 0
finish
