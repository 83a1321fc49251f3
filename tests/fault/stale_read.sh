#!/usr/bin/env bash
# A read that times out while Redis is frozen (SIGSTOP) still runs in Redis
# when it resumes, after the consumer has reconnected: its entries become
# pending for the consumer, delivered to nobody. With claiming off, only the
# consumer itself can find them (its orphan scan). Every entry is processed,
# nothing stays pending, nothing twice.
rill=$1
source "$(dirname "$0")/../lib.sh"
start_redis --appendonly no
n=200
rec=$dir/seqs
"$rill" consume --redis "$addr" --stream s --group g --count 0 --max-in-flight 64 \
  --record "$rec" --consumer A --consumer.claim-min-idle=0 --consumer.orphan-check=2s \
  --redis.request-timeout=2s \
  >"$dir/out" 2>"$dir/log" &
pid=$!
children+=("$pid")
wait_until 10 grep -q "created group" "$dir/log"
# 1. The effect, deterministically: in one transaction, 64 entries are added
# and read for consumer A by another connection - as a read that ran after A
# closed its connection would. A's own blocked read never sees them.
{
  echo MULTI
  for i in $(seq 0 63); do echo "XADD s * seq $i payload p"; done
  echo "XREADGROUP GROUP g A COUNT 64 STREAMS s >"
  echo EXEC
} | rcli >/dev/null
check "64 entries pending for A, held by nobody" test "$(pending_of s g A)" -eq 64
check "A finds and processes them (orphan scan)" wait_until 30 drained s g "$rec" 64
check "the orphans were reported" grep -q "held by nobody" "$dir/log"

# 2. The real thing: XADDs sent while Redis is frozen (on a connection made before) run when it
# resumes, and serve the stale read.
(sleep 1; seq 64 $((n - 1)) | sed 's/.*/XADD s * seq & payload p/') | redis-cli -p "$port" >/dev/null &
producer=$!
sleep 0.5
kill -STOP "$redis_pid"
sleep 8
kill -CONT "$redis_pid"
wait "$producer"
check "every entry processed" wait_until 40 drained s g "$rec" $n
echo "pending for A: $(pending_of s g A), processed $(distinct "$rec") of $n"
sigterm_exits_0 "$pid" "consumer exits 0 on SIGTERM"
check "nothing pending" test "$(pending s g)" -eq 0
check "no duplicates" test "$(wc -l <"$rec")" -eq "$(distinct "$rec")"
finish
