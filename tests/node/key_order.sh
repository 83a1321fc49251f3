#!/usr/bin/env bash
# consumer.order-by across nodes: a reader node orders 100,000 entries over
# 1,000 keys for worker pools on two other nodes (32 workers each, random
# 0-2 ms asynchronous work), one of them SIGKILLed mid-run and started again.
# Both pools append to one record file (one write per entry, O_APPEND, after
# the work and before the ack; the next entry of a key goes out only after
# the reader has that ack), so the file shows each key's completion order.
rill=$1
source "$(dirname "$0")/../lib.sh"
start_redis --appendonly no
node_addr=127.0.0.1:$((20000 + RANDOM % 12000))
n=100000
keys=1000
"$rill" produce --redis "$addr" --stream s --count $n --keys $keys >/dev/null 2>"$dir/produce.log"
check "produced $n entries over $keys keys" test "$(rcli XLEN s)" -eq $n
rec=$dir/seqs
touch "$rec"
"$rill" node --redis "$addr" --stream s --group g --listen "$node_addr" --plain \
  --remote-workers-only --count $n --consumer.order-by=key \
  >"$dir/reader.json" 2>"$dir/reader.log" &
reader=$!
children+=("$reader")
sleep 0.3
worker_node() { # name
  "$rill" node --redis "$addr" --join "$node_addr" --plain --stream s --group g \
    --max-in-flight 32 --work-us 0-2000 --record "$rec" >"$dir/$1.json" 2>>"$dir/$1.log" &
  eval "$1=\$!"
  children+=("$!")
}
worker_node w1
worker_node w2
over() { [ "$(wc -l <"$rec")" -ge "$1" ]; }
check "both pools are processing" wait_until 60 over 30000
kill -9 "$w2"
wait "$w2" 2>/dev/null
echo "worker node 2 killed after $(wc -l <"$rec") records"
worker_node w2
timeout 150 tail --pid="$reader" -f /dev/null
wait "$reader"
check "the reader node exits 0 after $n entries" test $? -eq 0
kill -TERM "$w1" "$w2" 2>/dev/null
wait "$w1" "$w2" 2>/dev/null
lines=$(wc -l <"$rec")
out_of_order=$(python3 "$(dirname "$0")/../fault/key_order.py" "$rec" $keys --reruns)
echo "processed $lines times for $n entries ($((lines - n)) again); $out_of_order out of order"
check "every key's seqs completed in stream order" test "$out_of_order" -eq 0
check "every seq processed" test "$(distinct "$rec")" -eq $n
check "the killed node's entries were redelivered" grep -q "redelivering" "$dir/reader.log"
processed_of() { grep -o '"processed":[0-9]*' "$1" | cut -d: -f2; }
echo "worker node 1 processed $(processed_of "$dir/w1.json"), node 2 after its restart $(processed_of "$dir/w2.json")"
check "worker node 1 took a share" test "$(processed_of "$dir/w1.json")" -gt 10000
check "the restarted node 2 took a share" test "$(processed_of "$dir/w2.json")" -gt 1000
check "nothing pending" test "$(pending s g)" -eq 0
# The same pools without order-by do reorder keys: the check above can fail.
rcli DEL s >/dev/null
"$rill" produce --redis "$addr" --stream s --count 20000 --keys 10 >/dev/null 2>>"$dir/produce.log"
: >"$rec"
"$rill" node --redis "$addr" --stream s --group g --listen "$node_addr" --plain \
  --remote-workers-only --count 20000 >"$dir/reader.json" 2>>"$dir/reader.log" &
reader=$!
children+=("$reader")
sleep 0.3
worker_node w1
worker_node w2
timeout 60 tail --pid="$reader" -f /dev/null
kill -TERM "$w1" "$w2" 2>/dev/null
wait "$w1" "$w2" 2>/dev/null
unordered=$(python3 "$(dirname "$0")/../fault/key_order.py" "$rec" 10)
echo "without order-by: $unordered of 20,000 completed out of key order"
check "without order-by the same check sees reordering" test "$unordered" -gt 0
finish
