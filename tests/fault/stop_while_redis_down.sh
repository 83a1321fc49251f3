#!/usr/bin/env bash
# SIGTERM while Redis is down: the entries processed since Redis went away
# cannot be acked. The consumer says how many acks it could not flush and
# exits 3; after Redis is back, those entries are delivered again (nothing is
# lost), and a clean stop exits 0.
rill=$1
source "$(dirname "$0")/../lib.sh"
start_redis --appendonly yes --appendfsync always
produce s 16
rec=$dir/seqs
"$rill" consume --redis "$addr" --stream s --group g --count 0 --max-in-flight 16 \
  --record "$rec" --consumer c --work-us 1500000 --consumer.stop-timeout=1s \
  >"$dir/out" 2>"$dir/log" &
pid=$!
children+=("$pid")
# All 16 read (pending) and in their 1.5 s of work (--record notes an entry
# only after its work).
all_read() { [ "$(pending s g)" -eq 16 ]; }
wait_until 10 all_read
sleep 0.3
stop_redis
sleep 2 # the work ends, the acks fail
kill -TERM "$pid"
timeout 20 tail --pid="$pid" -f /dev/null
wait "$pid"
rc=$?
check "SIGTERM with unflushed acks exits 3" test "$rc" -eq 3
check "the log says how many acks were not flushed" grep -q "16 acks of processed entries could not be flushed" "$dir/log"
check "the JSON line is still printed" grep -q '"processed":16,' "$dir/out"
launch_redis || exit 1
check "the 16 entries are still pending" test "$(pending s g)" -eq 16
"$rill" consume --redis "$addr" --stream s --group g --count 16 --max-in-flight 16 \
  --record "$rec" --consumer c >"$dir/out2" 2>>"$dir/log"
check "they are delivered again and the consumer exits 0" test $? -eq 0
check "nothing pending" test "$(pending s g)" -eq 0
check "every seq processed" test "$(distinct "$rec")" -eq 16
finish
