#!/usr/bin/env bash
# SIGKILL the consumer 3 times while it drains 100,000 entries; restart it
# with the same name, then with a new name (so the old name's pending entries
# must be claimed). Every seq is processed at least once, duplicates stay
# within what was in flight at the kills, nothing is left pending.
rill=$1
source "$(dirname "$0")/../lib.sh"
start_redis --appendonly no
n=100000
produce s $n
rec=$dir/seqs
consume() { # name, extra args
  "$rill" consume --redis "$addr" --stream s --group g --count 0 --max-in-flight 32 \
    --work-us 2000 --record "$rec" --consumer "$1" --consumer.claim-min-idle=1s \
    --consumer.claim-interval=200ms "${@:2}" >>"$dir/out" 2>>"$dir/log.$1" &
  pid=$!
  children+=("$pid")
}
in_flight=0
kills_with_work=0
for name in c1 c1 c2; do
  consume $name
  sleep 1.2
  kill -9 "$pid"
  wait "$pid" 2>/dev/null
  held=$(pending_of s g $name)
  echo "killed $name with $held entries pending for it"
  in_flight=$((in_flight + held))
  [ "$held" -gt 0 ] && kills_with_work=$((kills_with_work + 1))
done
check "entries were in flight at every kill" test "$kills_with_work" -eq 3
consume c2
check "drained after restarts" wait_until 90 drained s g "$rec" $n
sigterm_exits_0 "$pid" "last consumer exits 0 on SIGTERM"
lines=$(wc -l <"$rec")
dups=$((lines - $(distinct "$rec")))
echo "processed $lines times for $n entries: $dups duplicates, $in_flight in flight at kills"
check "every seq processed" test "$(distinct "$rec")" -eq $n
check "duplicates <= in flight at kills" test "$dups" -le "$in_flight"
check "nothing pending" test "$(pending s g)" -eq 0
check "c2 claimed c1's entries" grep -q "claimed" "$dir/log.c2"
finish
