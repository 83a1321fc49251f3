#!/usr/bin/env bash
# SIGKILL the consumer 5 times while it processes 100,000 entries with
# --effect-counter and --forward-to (one restart under another name, so the
# old name's entries are claimed): the counter is exactly 100,000 and the
# forward stream holds exactly 100,000 entries with distinct src, however
# often callbacks ran. The same kills with the writes sent
# before a plain ack (--effects-pipelined) count entries twice: the check
# can fail.
rill=$1
source "$(dirname "$0")/lib.sh"
start_redis --appendonly no
n=100000
produce s $n
flags=(--max-in-flight 48 --work-us 3000 --record "$dir/seqs" --consumer.claim-min-idle=1s
  --consumer.claim-interval=200ms)
kills=0
for name in c1 c1 c2 c2 c1; do
  consume_fx $name "${flags[@]}"
  sleep 0.8
  kill -9 "$pid"
  wait "$pid" 2>/dev/null
  kills=$((kills + 1))
  echo "killed $name: counter $(counter), pending $(pending s g)"
done
check "5 kills mid-run" test "$kills" -eq 5
check "the kills left entries pending" test "$(pending s g)" -gt 0
consume_fx c1 "${flags[@]}"
done_fx() { [ "$(pending s g)" -eq 0 ] && [ "$(counter)" = "$1" ]; }
check "drained after the restarts" wait_until 90 done_fx $n
conns=$(rcli CLIENT LIST | grep -c 'name=rill')
check "effects add no connection: shared + reader = 2 (CLIENT LIST)" test "$conns" -eq 2
sigterm_exits_0 "$pid" "the last consumer exits 0 on SIGTERM"
runs=$(wc -l <"$dir/seqs")
# Entries whose callbacks finished but whose script had not run at a kill
# run again (at least once); how many depends on where the kill lands.
echo "callbacks ran $runs times for $n entries ($(distinct "$dir/seqs") distinct)"
check "every seq ran" test "$(distinct "$dir/seqs")" -eq $n
check_exact $n

# The yardstick: the same writes without atomicity double-count after kills.
rcli DEL s cnt fwd >/dev/null
produce s 20000
for name in p1 p1 p1; do
  consume_fx $name --max-in-flight 48 --work-us 3000 --effects-pipelined
  sleep 0.5
  kill -9 "$pid"
  wait "$pid" 2>/dev/null
done
consume_fx p1 --max-in-flight 64 --effects-pipelined
idle_group() { [ "$(pending s g)" -eq 0 ] && [ "$(rcli XINFO GROUPS s | sed -n 12p)" = 0 ]; }
check "the pipelined consumer drained" wait_until 60 idle_group
sigterm_exits_0 "$pid" "the pipelined consumer exits 0"
echo "pipelined, not atomic: counter $(counter) for 20000 entries, $(rcli XLEN fwd) forwarded"
check "without the script, kills count entries twice" test "$(counter)" -gt 20000
finish
