#!/usr/bin/env bash
# Effects staged on a worker node travel with the entry to the reader on
# another node (CAF networking), which applies them with the XACK. A worker
# node SIGKILLed mid-run and replaced: the counter and the forward stream
# are exact, though entries ran on both worker nodes.
rill=$1
source "$(dirname "$0")/lib.sh"
start_redis --appendonly no
node_port=$((20000 + RANDOM % 12000))
n=20000
produce s $n
"$rill" node --redis "$addr" --stream s --group g --listen "127.0.0.1:$node_port" --plain \
  --remote-workers-only --count $n >"$dir/reader.json" 2>"$dir/reader.log" &
reader=$!
children+=("$reader")
worker_node() { # name
  "$rill" node --redis "$addr" --join "127.0.0.1:$node_port" --plain --stream s --group g \
    --max-in-flight 16 --work-us 2000 --record "$dir/seqs" --effect-counter cnt \
    --forward-to fwd >"$dir/$1.json" 2>"$dir/$1.log" &
  pid=$!
  children+=("$pid")
}
worker_node w1
some() { [ "$(counter)" -gt 2000 ] 2>/dev/null; }
check "the first worker node's effects are applied" wait_until 30 some
kill -9 "$pid"
wait "$pid" 2>/dev/null
echo "worker node w1 SIGKILLed at counter $(counter)"
worker_node w2
timeout 120 tail --pid="$reader" -f /dev/null
wait "$reader"
check "the reader node exits 0 after $n entries" test $? -eq 0
kill -TERM "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
echo "callbacks ran $(wc -l <"$dir/seqs") times for $n entries"
check "every seq ran" test "$(distinct "$dir/seqs")" -eq $n
check_exact $n
finish
