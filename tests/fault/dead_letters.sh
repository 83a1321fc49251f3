#!/usr/bin/env bash
# A callback failing 1% of entries: each is retried, then dead-lettered after
# max_deliveries; dead letters + processed = produced; nothing pending.
rill=$1
source "$(dirname "$0")/../lib.sh"
start_redis --appendonly no
n=20000
produce s $n
rec=$dir/seqs
timeout 60 "$rill" consume --redis "$addr" --stream s --group g --count $n --max-in-flight 32 \
  --record "$rec" --fail-percent 1 --consumer.max-deliveries=3 \
  --consumer.redeliver-base=5ms --consumer.redeliver-cap=50ms >"$dir/out" 2>"$dir/log"
check "consume exits 0" test $? -eq 0
dead=$(rcli XLEN s:dead)
processed=$(distinct "$rec")
echo "processed $processed, dead-lettered $dead"
check "1% dead-lettered" test "$dead" -eq $((n / 100))
check "dead letters + processed = produced" test $((dead + processed)) -eq $n
check "no failing seq was processed" test "$(awk '$1 % 100 == 0' "$rec" | wc -l)" -eq 0
rcli XRANGE s:dead - + >"$dir/dead"
check "dead letters keep the original seq" \
  test "$(grep -A1 -x seq "$dir/dead" | grep -v -x -e seq -e -- | awk '$1 % 100 == 0' | wc -l)" -eq "$dead"
check "dead letters say why" grep -q "failed 3 deliveries" "$dir/dead"
check "dead letters name the delivery count" test "$(grep -A1 -x dead_deliveries "$dir/dead" | grep -c -x 3)" -eq "$dead"
check "nothing pending" test "$(pending s g)" -eq 0
finish
