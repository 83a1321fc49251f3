#!/usr/bin/env bash
# /metrics of `rill consume`: the counters equal what Redis holds, the text is
# valid exposition format, names that are not UTF-8 are safe, the token
# guards everything but the probes, and hostile clients do not stop it.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib.sh"
source "$here/lib.sh"
rill=$1
start_redis

n=1000
produce s $n
# 1% of the entries fail every time: retried, then dead-lettered.
RILL_HTTP_TOKEN=sesame "$rill" consume --redis "$addr" --stream s --group g --fail-percent 1 \
  --consumer.max-deliveries 2 --consumer.redeliver-base 10ms --http.listen 0 \
  --metrics.interval 200ms --http.max-connections 40 >"$dir/out" 2>"$dir/log" &
pid=$!
children+=($pid)
hport=$(http_port_of "$dir/log")
check "the server logs the port it bound" test -n "$hport"
auth=(-H "Authorization: Bearer sesame")

settled() {
  [ "$(curl -sf "${auth[@]}" "http://127.0.0.1:$hport/metrics" | python3 "$here/exposition.py" \
    rill_entries_acked_total rill_entries_dead_lettered_total rill_group_pending rill_group_lag \
    | tr '\n' ' ')" = "$((n - 10)) 10 0 0 " ]
}
check "counters settle at $((n - 10)) acked, 10 dead-lettered, nothing pending, no lag" \
  wait_until 30 settled
# Connections are a promise (docs/architecture.md): 1 consumer + the shared
# one, with the HTTP server and the group probe running (the probe pipelines
# on the shared connection). CLIENT LIST also lists redis-cli itself.
check "the process holds exactly 2 Redis connections with HTTP and the probe on" \
  test "$(rcli CLIENT LIST | grep -vc 'cmd=client')" -eq 2
curl -sf "${auth[@]}" "http://127.0.0.1:$hport/metrics" >"$dir/metrics"
check "/metrics is valid exposition format" python3 "$here/exposition.py" <"$dir/metrics"
m() { python3 "$here/exposition.py" "$@" <"$dir/metrics"; }
check "acked = N - XLEN of the dead stream" \
  test "$(m rill_entries_acked_total)" -eq $((n - $(rcli XLEN s:dead)))
check "dead-lettered = XLEN of the dead stream" \
  test "$(m rill_entries_dead_lettered_total)" -eq "$(rcli XLEN s:dead)"
check "Redis holds nothing pending" test "$(pending s g)" -eq 0
check "delivered = N + retries" \
  test "$(m rill_entries_delivered_total)" -eq $((n + $(m rill_entries_retried_total)))
check "nacked = retried + dead-lettered (2 deliveries each)" \
  test "$(m rill_entries_nacked_total)" -eq 20
check "one callback duration per delivery" \
  test "$(m rill_callback_duration_seconds_count)" -eq "$(m rill_entries_delivered_total)"
check "XACK round trips counted per XACK command" \
  test "$(m rill_redis_round_trip_seconds_count:command=XACK)" -eq "$(m rill_xack_commands_total)"
check "both connections are up" \
  test "$(m rill_redis_connection_up:connection=shared)$(m rill_redis_connection_up:connection=reader)" = 11
check "labels carry no entry ID" bash -c "! grep -Eq '[0-9]{13}-[0-9]+' '$dir/metrics'"

check "/metrics without the token: 401" test "$(status_code "http://127.0.0.1:$hport/metrics")" = 401
check "/metrics with a wrong token: 401" \
  test "$(status_code "http://127.0.0.1:$hport/metrics" -H 'Authorization: Bearer sesam')" = 401
check "/ with ?token=: 200" test "$(status_code "http://127.0.0.1:$hport/?token=sesame")" = 200
check "/livez needs no token" test "$(status_code "http://127.0.0.1:$hport/livez")" = 200
check "/readyz needs no token" test "$(status_code "http://127.0.0.1:$hport/readyz")" = 200
check "POST is refused (405)" \
  test "$(status_code "http://127.0.0.1:$hport/metrics" -X POST -d x "${auth[@]}")" = 405
check "unknown path: 404" test "$(status_code "http://127.0.0.1:$hport/nope" "${auth[@]}")" = 404
big=$(head -c 20000 /dev/zero | tr '\0' a)
check "20 KB of headers: 431" \
  test "$(status_code "http://127.0.0.1:$hport/livez" -H "X-Big: $big")" = 431
# More idle clients than http.max-connections (40): the extra ones are closed,
# and once they go the server serves again.
python3 - "$hport" >"$dir/flood" <<'PY' &
import socket, sys, time
socks = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for _ in range(60)]
time.sleep(1.5)
closed = 0
for s in socks:
    s.settimeout(0.05)
    try:
        closed += s.recv(1) == b""
    except socket.timeout:
        pass
print(closed)
PY
flood=$!
wait $flood
check "60 idle clients: 20 closed at accept (http.max-connections 40)" test "$(cat "$dir/flood")" -eq 20
check "after the flood it serves again" \
  wait_until 5 http_is "http://127.0.0.1:$hport/livez" 200
check "the token never reaches the log" bash -c "! grep -q sesame '$dir/log'"

# A stream whose name is not UTF-8: metrics and history stay valid.
bad=$'orders\xff\xfe'
"$rill" produce --redis "$addr" --stream "$bad" --count 5 >/dev/null 2>&1
"$rill" consume --redis "$addr" --stream "$bad" --group g --http.listen 0 --metrics.interval 200ms \
  >"$dir/out2" 2>"$dir/log2" &
pid2=$!
children+=($pid2)
port2=$(http_port_of "$dir/log2")
check "a non-UTF-8 stream name: acked counted" \
  wait_until 20 metric_is "$port2" rill_entries_acked_total 5
check "its /metrics is valid UTF-8 exposition" \
  bash -c "curl -sf http://127.0.0.1:$port2/metrics | python3 '$here/exposition.py'"
check "its history names the stream in base64 too" wait_until 5 bash -c "curl -sf http://127.0.0.1:$port2/api/history \
  | python3 -c 'import json,sys; c=json.load(sys.stdin)[\"consumers\"][0]; assert c[\"stream_base64\"]==\"b3JkZXJz//4=\"' 2>/dev/null"

sigterm_exits_0 "$pid" "consume exits 0 on SIGTERM with the server running"
sigterm_exits_0 "$pid2" "the second consume exits 0"
finish
