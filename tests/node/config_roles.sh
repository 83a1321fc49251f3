#!/usr/bin/env bash
# One process, several roles from one --config file: a node reading two
# streams (one with a local worker pool) and a node whose pools join it for
# both; config mistakes refused with one line; an app linking rill (the
# order_index example) running the same entry point, alone and as a worker
# node of a `rill node` reader.
rill=$1
app=$2
source "$(dirname "$0")/../lib.sh"
start_redis --appendonly no
node_port=$((20000 + RANDOM % 12000))
node_addr=127.0.0.1:$node_port

# -- 1. two readers + a local pool in node A, two joined pools in node B -------------
n=20000
for s in a b; do produce $s $n; done
cat >"$dir/a.ini" <<INI
[redis]
port = $port
[node]
listen = "$node_addr"
readers = ["stream=a group=g", "stream=b group=g consumer=bee"]
workers = ["stream=b group=g workers=4 callbacks=seq,work"]
INI
cat >"$dir/b.ini" <<INI
[redis]
port = $port
[node]
join = "$node_addr"
workers = ["stream=a group=g workers=16 callbacks=seq", "stream=b group=g workers=8"]
INI
# Node B starts first: its pools join when node A comes up.
"$rill" node --config "$dir/b.ini" --plain --work-us 200 --record "$dir/b.rec" \
  >"$dir/b.json" 2>"$dir/b.log" &
b=$!
children+=("$b")
"$rill" node --config "$dir/a.ini" --plain --count $n --work-us 200 --record "$dir/a.rec" \
  >"$dir/a.json" 2>"$dir/a.log" &
a=$!
children+=("$a")
timeout 90 tail --pid="$a" -f /dev/null
wait "$a"
check "node A exits 0 once both readers read $n" test $? -eq 0
kill -TERM "$b" && wait "$b"
check "node B stops on SIGTERM with 0" test $? -eq 0
check "node A read both streams" \
  test "$(grep -c "\"processed\":$n," "$dir/a.json")" -eq 2
check "node A served both readers" test "$(grep -c "served on port" "$dir/a.log")" -eq 2
check "node B joined both pools" test "$(grep -c "worker pool: .* serve" "$dir/b.log")" -eq 2
echo "node A processed $(wc -l <"$dir/a.rec"), node B $(wc -l <"$dir/b.rec")"
check "stream b shared by A's local and B's remote pool" \
  test "$(wc -l <"$dir/a.rec")" -gt 100 -a "$(wc -l <"$dir/b.rec")" -gt $((n + 100))
check "each seq exactly once per stream" \
  test "$(cat "$dir/a.rec" "$dir/b.rec" | sort -n | uniq -c | awk '$1 != 2' | wc -l)" -eq 0 \
  -a "$(cat "$dir/a.rec" "$dir/b.rec" | wc -l)" -eq $((2 * n))
check "the custom consumer name is used" test "$(pending_of b g bee)" -eq 0 \
  -a "$(rcli XINFO CONSUMERS b g | grep -c bee)" -eq 1
check "nothing pending on a" test "$(pending a g)" -eq 0
check "nothing pending on b" test "$(pending b g)" -eq 0

# -- 2. config mistakes: exit 2, one line that names the entry -----------------------
refused() { # expected text, config lines...
  local want=$1
  shift
  printf '%s\n' "[redis]" "port = $port" "[node]" "$@" >"$dir/bad.ini"
  timeout 10 "$rill" node --config "$dir/bad.ini" --plain >/dev/null 2>"$dir/err"
  local rc=$?
  [ $rc -eq 2 ] && [ "$(wc -l <"$dir/err")" -eq 1 ] && grep -q -- "$want" "$dir/err" \
    || { echo "  rc=$rc: $(cat "$dir/err")"; return 1; }
}
check "unknown key in a pool" refused "node.workers\[0\]: unknown key 'threads'" \
  'workers = ["stream=a group=g threads=4"]'
check "unknown callback name" refused "no callback named 'nope' (registered: seq)" \
  'workers = ["stream=a group=g callbacks=seq,nope"]' 'join = "127.0.0.1:1"'
check "a remote pool without a reader node" refused "give join=HOST:PORT or node.join" \
  'workers = ["stream=a group=g"]'
check "a reader nobody can serve" refused "gets no workers" 'readers = ["stream=a group=g"]'
check "the same reader twice" refused "a second reader for a/g" \
  'listen = "0"' 'readers = ["stream=a group=g", "stream=a group=g"]'
check "a bad worker count" refused "workers must be 1..100000" \
  'readers = ["stream=a group=g"]' 'workers = ["stream=a group=g workers=0"]'

# -- 3. an app linking rill: order_index, alone and as a worker node -----------------
orders() { # stream first last
  for i in $(seq "$2" "$3"); do
    echo "XADD $1 * order o$i customer c$((i % 10)) amount_cents $((i * 7))"
  done
}
malformed() { # stream: two orders the app rejects
  echo "XADD $1 * order bad1 customer c1 amount_cents 12.5"
  echo "XADD $1 * customer c1 amount_cents 1"
}
{
  orders orders 1 3000
  malformed orders
} | rcli >/dev/null
cat >"$dir/app.ini" <<INI
[redis]
port = $port
[node]
readers = ["stream=orders group=index"]
workers = ["stream=orders group=index workers=32 callbacks=validate,store"]
INI
# Local roles only: no --plain needed (only links between nodes need it).
timeout 60 "$app" --config "$dir/app.ini" --count 3002 >"$dir/app.out" 2>"$dir/app.log"
check "order_index exits 0 after 3002 entries" test $? -eq 0
indexed() {
  local total=0
  for c in $(seq 0 9); do total=$((total + $(rcli SCARD "customer:c$c:orders"))); done
  echo $total
}
check "3000 orders indexed under their customers" test "$(indexed)" -eq 3000
check "an order's fields stored" \
  test "$(rcli HGET order:o1234 amount_cents)" = 8638 -a "$(rcli HGET order:o1234 customer)" = c4
check "2 malformed orders dead-lettered" test "$(rcli XLEN orders:dead)" -eq 2
check "with the reason" grep -q "whole number of cents" <(rcli XRANGE orders:dead - +)
check "nothing pending on orders" test "$(pending orders index)" -eq 0
timeout 10 "$app" --redis "$addr" --no-such-flag >/dev/null 2>"$dir/app.err"; rc=$?
check "the app's config errors exit 2" test "$rc" -eq 2
check "... in one line that names the app, not rill node" \
  bash -c "[ \$(wc -l <'$dir/app.err') -eq 1 ] && grep -q '^order_index: ' '$dir/app.err'"

# The same app as a worker node of a `rill node` reader node: its failures go back
# through the node's ack relay to the reader, which dead-letters them.
{
  orders more 1 2000
  malformed more
} | rcli >/dev/null
"$rill" node --redis "$addr" --stream more --group index --listen "$node_addr" --plain \
  --remote-workers-only --count 2002 >"$dir/reader.json" 2>"$dir/reader.log" &
reader=$!
children+=("$reader")
"$app" --redis "$addr" --join "$node_addr" --plain --stream more --group index \
  --max-in-flight 16 >/dev/null 2>"$dir/app2.log" &
app2=$!
children+=("$app2")
timeout 60 tail --pid="$reader" -f /dev/null
wait "$reader"
check "reader node done with 2000 entries from the app's workers" \
  grep -q '"processed":2000,' "$dir/reader.json"
check "2 malformed orders from the remote workers dead-lettered" test "$(rcli XLEN more:dead)" -eq 2
kill -TERM "$app2" && wait "$app2"
check "the app node stops on SIGTERM with 0" test $? -eq 0
check "nothing pending on more" test "$(pending more index)" -eq 0
# -- local roles only: no --plain, no TLS; names that are not plain text ------------
weird='q"x\y'
printf '[redis]\nport = %s\n[node]\nreaders = ["stream=%s group=g", "stream=\xffbin group=g"]\nworkers = ["stream=%s group=g workers=2 callbacks=seq", "stream=\xffbin group=g workers=2 callbacks=seq"]\n' \
  "$port" 'q\"x\\y' 'q\"x\\y' >"$dir/local.ini"
produce "$weird" 100
produce $'\xffbin' 100
timeout 60 "$rill" node --config "$dir/local.ini" --count 100 >"$dir/local.json" 2>"$dir/local.log"
check "a node with local roles only needs neither TLS nor --plain" test $? -eq 0
check "its JSON lines are valid JSON" python3 -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
names = {l.get("stream"): l for l in lines if l["role"] == "reader"}
assert names["q\"x\\y"]["processed"] == 100, names
bad = [l for l in lines if l.get("stream_base64") == "/2Jpbg=="]
assert len(bad) == 1 and bad[0]["processed"] == 100, lines
' "$dir/local.json"
printf '[redis]\nport = %s\n[node]\nreaders = ["stream=idle group=g"]\nworkers = ["stream=idle group=g workers=1 callbacks=seq"]\n' "$port" >"$dir/idle.ini"
"$rill" node --config "$dir/idle.ini" >"$dir/idle.json" 2>/dev/null &
idle=$!
sleep 1
kill -TERM "$idle" && wait "$idle"
check "a reader that processed nothing reports 0 seconds" grep -q '"processed":0,"seconds":0' "$dir/idle.json"

finish
