#!/usr/bin/env bash
# rill produce writes every seq exactly once through faults that lose replies:
# a server that sleeps (DEBUG SLEEP) longer than the request timeout, and a
# server SIGKILLed mid-run (AOF on) and restarted while it loads; and faults
# that refuse some entries of a batch (-LOADING, -OOM). Its JSON count is what
# Redis acknowledged. (It used to write every seq 6 times across a DEBUG
# SLEEP 12, report fewer than Redis held after a kill, and stop at the first
# batch after a per-entry refusal.)
rill=$1
source "$(dirname "$0")/../lib.sh"
start_redis --appendonly yes --appendfsync always --enable-debug-command local
seqs() { # stream: the seq fields, one per line
  rcli XRANGE "$1" - + | awk 'prev == "seq" {print} {prev = $0}'
}

# -- 1. DEBUG SLEEP 12 while producing 100 ------------------------------------------
"$rill" produce --redis "$addr" --stream slept --count 100 --rate 40 \
  >"$dir/slept.json" 2>"$dir/slept.log" &
producer=$!
children+=("$producer")
sleep 0.5
rcli DEBUG SLEEP 12 >/dev/null
timeout 60 tail --pid="$producer" -f /dev/null
wait "$producer"
check "produce exits 0 after the server slept" test $? -eq 0
check "it reports 100" grep -q '"produced":100,' "$dir/slept.json"
check "XLEN is 100" test "$(rcli XLEN slept)" -eq 100
check "every seq once" test "$(seqs slept | sort -n | uniq | wc -l)" -eq 100
check "the slow replies were noticed" grep -q "sending again" "$dir/slept.log"

# -- 2. Redis SIGKILLed mid-run and restarted, LOADING for a second -------------------
# 200,000 filler keys in the AOF base, loaded at 5 us each: the restarted server
# answers -LOADING for about a second, to the resent batches (outcome unknown)
# and to new ones. (Refused entries used to go again under "*", an ID above
# the next batches', and the run stopped at its next XADD: CI, 2026-12-07.)
rcli DEBUG POPULATE 200000 filler >/dev/null
rcli BGREWRITEAOF >/dev/null
rewritten() { rcli INFO persistence | grep -q "aof_rewrite_in_progress:0" \
  && ! rcli INFO persistence | grep -q "aof_rewrite_scheduled:1"; }
wait_until 20 rewritten
n=20000
"$rill" produce --redis "$addr" --stream killed --count $n --rate 8000 \
  >"$dir/killed.json" 2>"$dir/killed.log" &
producer=$!
children+=("$producer")
sleep 1
kill -9 "$redis_pid"
wait "$redis_pid" 2>/dev/null
redis_pid=
sleep 0.5
redis_args+=(--key-load-delay 5)
launch_redis || exit 1
timeout 60 tail --pid="$producer" -f /dev/null
wait "$producer"
check "produce exits 0 after a Redis kill" test $? -eq 0
load_seconds() { # the restarted server's AOF load time, from its log
  grep -o "DB loaded from append only file: [0-9.]*" "$dir/redis.log" | tail -1 | awk '{print $NF}'
}
check "the restarted server was loading for 0.5 s or more" \
  awk -v s="$(load_seconds)" 'BEGIN { exit !(s >= 0.5) }'
check "it reports $n" grep -q "\"produced\":$n," "$dir/killed.json"
echo "XLEN after the kill: $(rcli XLEN killed)"
check "XLEN is $n" test "$(rcli XLEN killed)" -eq $n
check "every seq once" test "$(seqs killed | sort -n | uniq | wc -l)" -eq $n

# -- 2b. writes refused for memory (maxmemory 1 for 0.3 s), per entry ---------------
# Some entries of a pipelined batch are refused with -OOM while later ones land:
# the refused go again under IDs above every one sent (they went as "*" before,
# and the next batch was refused as "equal or smaller").
"$rill" produce --redis "$addr" --stream oom --count $n --rate 8000 \
  >"$dir/oom.json" 2>"$dir/oom.log" &
producer=$!
children+=("$producer")
sleep 1
rcli CONFIG SET maxmemory 1 >/dev/null
sleep 0.3
rcli CONFIG SET maxmemory 0 >/dev/null
timeout 60 tail --pid="$producer" -f /dev/null
wait "$producer"
check "produce exits 0 after OOM refusals" test $? -eq 0
check "the refusals were noticed" grep -q "OOM" "$dir/oom.log"
check "XLEN is $n" test "$(rcli XLEN oom)" -eq $n
check "every seq once" test "$(seqs oom | sort -n | uniq | wc -l)" -eq $n

# -- 3. a second writer is a clear error, not silent loss ------------------------------
rcli XADD other '*' seq x >/dev/null
"$rill" produce --redis "$addr" --stream other --count 10 >"$dir/other.json" 2>"$dir/other.err"
check "a stream with entries is appended to" test "$(rcli XLEN other)" -eq 11
# -- 4. a value longer than the server takes; a large payload in bounded memory --------
rcli CONFIG SET proto-max-bulk-len 1mb >/dev/null
timeout 20 "$rill" produce --redis "$addr" --stream toolong --count 3 --payload-bytes 2000000 \
  >"$dir/long.json" 2>"$dir/long.err"
check "a value over proto-max-bulk-len fails the run (exit 1)" test $? -eq 1
check "with one line naming the limit" grep -q "more than the server's proto-max-bulk-len (1048576)" "$dir/long.err"
check "nothing was written" test "$(rcli XLEN toolong)" -eq 0
rcli CONFIG SET proto-max-bulk-len 512mb >/dev/null
"$rill" produce --redis "$addr" --stream big --count 20 --payload-bytes 16000000 \
  >"$dir/big.json" 2>/dev/null &
big=$!
peak=0
while kill -0 "$big" 2>/dev/null; do # VmHWM: the peak RSS so far (no GNU time needed)
  hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$big/status" 2>/dev/null)
  [ -n "$hwm" ] && [ "$hwm" -gt "$peak" ] && peak=$hwm
  sleep 0.05
done
wait "$big"
check "20 entries of 16 MB are produced" grep -q '"produced":20,' "$dir/big.json"
echo "peak RSS for 20 x 16 MB: $peak KB"
check "in bounded memory (< 400 MB)" test "$peak" -lt 400000
finish
