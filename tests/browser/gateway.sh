#!/usr/bin/env bash
# EventSource in headless Chromium against `rill gateway`: 1,500 entries
# arrive at 150/s, half before the gateway is stopped and started again on
# the same port (once the browser is receiving), half after; the browser reconnects by itself with Last-Event-ID, and at the
# end the page (read back from the DOM) holds every entry ID exactly once,
# in stream order. The page is served from another origin (CORS) and passes
# the token as ?access_token= (EventSource sends no headers).
# Usage: gateway.sh RILL BUILD_DIR
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib.sh"
source "$here/../observability/lib.sh"
source "$here/lib.sh"
rill=$1
build=$(cd "$2" && pwd)
start_redis
install_puppeteer "$build" "$here/gateway.mjs"

free_port() {
  local p
  for _ in $(seq 50); do
    p=$((20000 + RANDOM % 12000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
  done
  return 1
}
gport=$(free_port)
pport=$(free_port)
total=1500
gateway() { # LOG: a gateway on $gport
  RILL_HTTP_TOKEN=tok "$rill" gateway --redis "$addr" --http.listen "127.0.0.1:$gport" \
    --gateway.retry 300ms --gateway.cors-origins "[\"http://127.0.0.1:$pport\"]" >/dev/null 2>"$1" &
  gw=$!
  children+=($gw)
  wait_until 10 http_is "http://127.0.0.1:$gport/livez" 200
}
check "the gateway serves" gateway "$dir/gw1.log"
[ "$failed" -eq 0 ] || tail -5 "$dir/gw1.log" # why not, in the CI log

# Half before the restart, half after: the page cannot finish without
# reconnecting, however long Chromium takes to start.
"$rill" produce --redis "$addr" --stream events --count $((total / 2)) --rate 150 \
  >/dev/null 2>&1 &
first_half=$!
children+=($first_half)
shot=$build/gateway.png
rm -f "$shot"
(cd "$npm_dir" && timeout 120 node gateway.mjs "$pport" \
  "http://127.0.0.1:$gport/streams/events/events?last_id=0-0&access_token=tok" $total "$shot") \
  >"$dir/seen" 2>"$dir/node.err" &
node=$!
children+=($node)

# Stop the gateway mid-stream (once the browser holds some 300 events: a busy
# machine takes seconds to start Chromium), then start it again.
sent_at_least() {
  local sent
  sent=$(curl -s -H 'Authorization: Bearer tok' "http://127.0.0.1:$gport/metrics" \
    | sed -n 's/^rill_gateway_events_sent_total \([0-9]*\).*/\1/p')
  [ "${sent:-0}" -ge "$1" ]
}
check "the browser is receiving" wait_until 60 sent_at_least 200
kill -TERM "$gw"
wait "$gw"
check "the first gateway stopped with exit 0" test $? -eq 0
sleep 1
check "a new gateway on the same port" gateway "$dir/gw2.log"
wait "$first_half"
"$rill" produce --redis "$addr" --stream events --count $((total / 2)) --rate 150 \
  >/dev/null 2>&1 &
children+=($!)
wait "$node"
rc=$?
cat "$dir/node.err"
check "the page ran" test $rc -eq 0
rcli XRANGE events - + | grep -- '-' >"$dir/want"
check "the page holds every ID exactly once, in stream order, after a reconnect" python3 -c '
import json, sys
seen = json.load(open(sys.argv[1]))
want = open(sys.argv[2]).read().split()
print("page: %d IDs, %d opens, %d errors; stream: %d entries"
      % (len(seen["ids"]), seen["opens"], seen["errors"], len(want)))
assert len(want) == int(sys.argv[3]), "the stream is short"
assert seen["opens"] >= 2 and seen["errors"] >= 1, "no reconnect happened"
assert seen["ids"] == want, "IDs differ from the stream"' "$dir/seen" "$dir/want" $total
check "the second gateway resumed the browser from Redis (Last-Event-ID)" \
  bash -c "curl -s -H 'Authorization: Bearer tok' http://127.0.0.1:$gport/metrics \
    | grep -q '^rill_gateway_resumes_total{from=\"redis\"} [1-9]'"
check "a screenshot is saved at $shot" test -s "$shot"
finish
