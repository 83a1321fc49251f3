#!/usr/bin/env bash
# Redis with appendonly yes / appendfsync always is SIGKILLed mid-run and
# started again from its AOF: a script's effects and XACK are one MULTI in
# the AOF, so they come back together or not at all; a script whose reply
# was lost with the connection is sent again and its entries are fenced.
# The counter is exact.
rill=$1
source "$(dirname "$0")/lib.sh"
start_redis --appendonly yes --appendfsync always
n=30000
produce s $n
consume_fx c --max-in-flight 32 --work-us 1000
some() { [ "$(counter)" -gt 5000 ] 2>/dev/null; }
check "effects applied before the crash" wait_until 30 some
kill -9 "$redis_pid"
wait "$redis_pid" 2>/dev/null
echo "redis SIGKILLed at counter >= 5000"
sleep 0.5
launch_redis || { echo "cannot restart redis-server"; exit 1; }
echo "restarted from the AOF: counter $(counter), pending $(pending s g)"
done_fx() { [ "$(pending s g)" -eq 0 ] && [ "$(counter)" = "$n" ]; }
check "the consumer reconnects and finishes" wait_until 90 done_fx
sigterm_exits_0 "$pid" "the consumer exits 0 on SIGTERM"
check "the consumer lost its connection" grep -q "connection" "$dir/log.c"
check "the restarted server got the script again (EVAL after NOSCRIPT)" \
  bash -c "redis-cli -p $port INFO commandstats | grep -q '^cmdstat_eval:'"
check_exact $n
finish
