#!/usr/bin/env bash
# Several processes on loopback, one real Redis: a reader node with worker
# pools on two other nodes (CAF networking), a worker node killed mid-run,
# one stopped mid-run, a worker node that starts before its reader node, and
# two plain consumers sharing a group.
rill=$1
source "$(dirname "$0")/../lib.sh"
start_redis --appendonly no
node_port=$((20000 + RANDOM % 12000))
node_addr=127.0.0.1:$node_port

reader_node() { # count, extra args
  "$rill" node --redis "$addr" --stream "$stream" --group g --listen "$node_addr" --plain \
    --remote-workers-only --count "$1" "${@:2}" >"$dir/reader.json" 2>"$dir/reader.log" &
  reader=$!
  children+=("$reader")
}
worker_node() { # name
  "$rill" node --redis "$addr" --join "$node_addr" --plain --stream "$stream" --group g \
    --max-in-flight 16 --work-us 1000 --record "$dir/$stream.$1" >"$dir/$1.json" \
    2>"$dir/$1.log" &
  eval "$1=\$!"
  children+=("$!")
}
stop_workers() {
  kill -TERM "$@" 2>/dev/null
  for pid in "$@"; do wait "$pid" 2>/dev/null; done
}

# -- 1. one reader node, two worker nodes share 100,000 entries ---------------------
stream=shared
n=100000
produce $stream $n
reader_node $n
sleep 0.3
worker_node w1
worker_node w2
timeout 120 tail --pid="$reader" -f /dev/null
wait "$reader"
check "reader node exits 0 after $n entries" test $? -eq 0
stop_workers "$w1" "$w2"
cat "$dir/$stream.w1" "$dir/$stream.w2" >"$dir/$stream.all"
echo "worker node 1: $(wc -l <"$dir/$stream.w1"), worker node 2: $(wc -l <"$dir/$stream.w2")"
check "both worker nodes processed a share" \
  test "$(wc -l <"$dir/$stream.w1")" -gt 10000 -a "$(wc -l <"$dir/$stream.w2")" -gt 10000
check "every seq processed exactly once" test "$(wc -l <"$dir/$stream.all")" -eq $n
check "no seq twice" test "$(distinct "$dir/$stream.all")" -eq $n
check "reader counted every ack" grep -q "\"processed\":$n," "$dir/reader.json"
check "nothing pending" test "$(pending $stream g)" -eq 0

# -- 2. a worker node SIGKILLed mid-run ---------------------------------------------
stream=killed
n=50000
produce $stream $n
reader_node $n
sleep 0.3
worker_node w1
worker_node w2
# Kill it mid-run: once it has processed a share, long before the end.
has_processed() { [ "$(wc -l 2>/dev/null <"$1" || echo 0)" -ge "$2" ]; }
check "worker node 2 is processing" wait_until 30 has_processed "$dir/$stream.w2" 3000
kill -9 "$w2"
wait "$w2" 2>/dev/null
timeout 120 tail --pid="$reader" -f /dev/null
wait "$reader"
check "reader finishes after losing a worker node" test $? -eq 0
stop_workers "$w1"
cat "$dir/$stream.w1" "$dir/$stream.w2" >"$dir/$stream.all"
check "every seq processed at least once" test "$(distinct "$dir/$stream.all")" -eq $n
# The kill can land while the node holds nothing at the reader (all its acks
# in): then nothing is redelivered, and "every seq" above is what counts.
check "the reader saw the lost node's workers go down" grep -q "a worker went down" "$dir/reader.log"
echo "duplicates after the kill: $(($(wc -l <"$dir/$stream.all") - n)); redelivery lines:" \
  "$(grep -c redelivering "$dir/reader.log")"
check "nothing pending" test "$(pending $stream g)" -eq 0

# -- 2a. a worker node that hangs (SIGSTOP) is declared down; its entries move on ---
stream=hung
n=20000
produce $stream $n
reader_node $n
sleep 0.3
worker_node w1
worker_node w2
check "worker node 2 is processing" wait_until 30 has_processed "$dir/$stream.w2" 2000
kill -STOP "$w2"
t0=$SECONDS
timeout 60 tail --pid="$reader" -f /dev/null
wait "$reader"
check "reader finishes while a worker node hangs" test $? -eq 0
echo "finished $((SECONDS - t0)) s after the hang"
check "the hung node's workers went down at the reader" grep -q "a worker went down" "$dir/reader.log"
check "nothing pending" test "$(pending $stream g)" -eq 0
kill -CONT "$w2"
stop_workers "$w1" "$w2"
cat "$dir/$stream.w1" "$dir/$stream.w2" >"$dir/$stream.all"
check "every seq processed" test "$(distinct "$dir/$stream.all")" -eq $n

# -- 2b. a worker node stopped with SIGTERM mid-run drains first -----------------------
stream=stopped
n=30000
produce $stream $n
reader_node $n
sleep 0.3
worker_node w1
worker_node w2
check "worker node 2 is processing" wait_until 30 has_processed "$dir/$stream.w2" 3000
kill -TERM "$w2"
exited() { ! kill -0 "$1" 2>/dev/null; }
t0=$SECONDS
check "worker node 2 stops within 10 s of SIGTERM" wait_until 10 exited "$w2"
echo "worker node 2 stopped after $((SECONDS - t0)) s, having processed $(wc -l <"$dir/$stream.w2")"
check "while the reader node still runs (node 1 takes over)" kill -0 "$reader"
wait "$w2"
check "worker node 2 exits 0" test $? -eq 0
timeout 120 tail --pid="$reader" -f /dev/null
wait "$reader"
check "reader finishes with the other worker node" test $? -eq 0
stop_workers "$w1"
cat "$dir/$stream.w1" "$dir/$stream.w2" >"$dir/$stream.all"
check "the reader withdrew the stopping node's workers" grep -q "withdrawn" "$dir/reader.log"
check "no entry redelivered" test "$(grep -c redelivering "$dir/reader.log")" -eq 0
check "every seq processed exactly once" test "$(wc -l <"$dir/$stream.all")" -eq $n
check "no seq twice" test "$(distinct "$dir/$stream.all")" -eq $n
check "nothing pending" test "$(pending $stream g)" -eq 0

# -- 3. a worker node that starts first joins when the reader node comes up ----------
stream=late
n=2000
produce $stream $n
worker_node w1
sleep 1
reader_node $n
timeout 60 tail --pid="$reader" -f /dev/null
wait "$reader"
check "late reader node served by an early worker node" test $? -eq 0
stop_workers "$w1"
check "all entries processed by it" test "$(distinct "$dir/$stream.w1")" -eq $n

# -- 4. two processes in one group share the stream -----------------------------------
stream=group
n=40000
produce $stream $n
for c in a b; do
  "$rill" consume --redis "$addr" --stream $stream --group g --consumer $c --count 0 \
    --max-in-flight 16 --work-us 500 --record "$dir/$stream.$c" >/dev/null 2>&1 &
  eval "$c=\$!"
  children+=("$!")
done
group_drained() { [ "$(cat "$dir/$stream.a" "$dir/$stream.b" 2>/dev/null | wc -l)" -ge $n ]; }
check "the group drains" wait_until 60 group_drained
stop_workers "$a" "$b"
echo "consumer a: $(wc -l <"$dir/$stream.a"), consumer b: $(wc -l <"$dir/$stream.b")"
check "both consumers got a share" \
  test "$(wc -l <"$dir/$stream.a")" -gt 5000 -a "$(wc -l <"$dir/$stream.b")" -gt 5000
check "nothing processed by both" test "$(cat "$dir/$stream.a" "$dir/$stream.b" | wc -l)" -eq $n
check "nothing pending" test "$(pending $stream g)" -eq 0

# -- 5. mutual TLS: a test CA's certificates connect, others are refused --------------
make_test_ca reader worker
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=intruder" \
  -keyout "$tls/intruder.key" -out "$tls/intruder.pem" 2>/dev/null
tls_args() { # name cafile
  echo "--openssl.certificate=$tls/$1.pem --openssl.key=$tls/$1.key --openssl.cafile=$tls/$2.pem"
}
stream=tls
n=3000
produce $stream $n
# shellcheck disable=SC2046
"$rill" node --redis "$addr" --stream $stream --group g --listen "$node_addr" \
  --remote-workers-only --count $n $(tls_args reader ca) >"$dir/reader.json" 2>"$dir/reader.log" &
reader=$!
children+=("$reader")
sleep 0.5
# shellcheck disable=SC2046
timeout 4 "$rill" node --redis "$addr" --join "$node_addr" --stream $stream --group g \
  --max-in-flight 8 $(tls_args intruder intruder) >"$dir/intruder.json" 2>"$dir/intruder.log"
check "a self-signed certificate outside the CA is refused" \
  grep -q '"processed":0,' "$dir/intruder.json"
check "in the TLS handshake" grep -q "handshake" "$dir/intruder.log"
timeout 4 "$rill" node --redis "$addr" --join "$node_addr" --stream $stream --group g \
  --max-in-flight 8 --plain >"$dir/nocert.json" 2>"$dir/nocert.log"
check "a node without a certificate is refused" grep -q '"processed":0,' "$dir/nocert.json"
# shellcheck disable=SC2046
"$rill" node --redis "$addr" --join "$node_addr" --stream $stream --group g --max-in-flight 8 \
  $(tls_args worker ca) --record "$dir/$stream.w1" >"$dir/w1.json" 2>"$dir/w1.log" &
w1=$!
children+=("$w1")
timeout 60 tail --pid="$reader" -f /dev/null
wait "$reader"
check "reader node over mutual TLS exits 0" test $? -eq 0
stop_workers "$w1"
check "a node with a certificate from the CA processed everything" \
  test "$(distinct "$dir/$stream.w1")" -eq $n
check "the reader says mutual TLS" grep -q "mutual TLS" "$dir/reader.log"

# -- 6. no silent plaintext ------------------------------------------------------------
"$rill" node --redis "$addr" --listen "$node_addr" --stream s --group g >/dev/null 2>"$dir/err"
check "without --plain a node refuses to start (exit 2)" test $? -eq 2
check "and says why" grep -q -- "--plain" "$dir/err"
finish
