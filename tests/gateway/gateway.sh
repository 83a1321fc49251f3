#!/usr/bin/env bash
# `rill gateway` through real HTTP clients (curl, a raw socket) and a real
# redis-server: resume by Last-Event-ID or ?last_id= (the header wins), gaps,
# token auth, the client and stream limits, a client that never reads, and
# the connections it holds (CLIENT LIST: 1 shared + 1 per stream followed).
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib.sh"
source "$here/../observability/lib.sh"
rill=$1
start_redis

ids_of() { grep '^id: ' "$1" | cut -c5-; }
# sse URL SECONDS OUT [curl args...]: follow an event stream for SECONDS.
sse() {
  local url=$1 secs=$2 out=$3
  shift 3
  curl -sN -m "$secs" "$@" "$url" >"$out" 2>/dev/null
  true
}
connections() { # client connections to Redis, not counting the CLIENT LIST itself
  rcli CLIENT LIST | grep -vc 'cmd=client|list'
}
metric() { # PORT NAME[:label=value]: /metrics needs the token here
  local p=$1
  shift
  curl -sf -H 'Authorization: Bearer s3cret' "http://127.0.0.1:$p/metrics" \
    | python3 "$obs_lib/exposition.py" "$@"
}
connections_are() { [ "$(connections)" -eq "$1" ]; }
dropped_some() { [ "$(metric "$hport" rill_gateway_clients_dropped_total)" -ge 1 ]; }
same_ids() { [ "$(ids_of "$1" | tr '\n' ' ')" = "$(rcli XRANGE "$2" - + | grep -- '-' | tr '\n' ' ')" ]; }

check "without --http.listen: exit 2" bash -c "'$rill' gateway --redis $addr 2>/dev/null; test \$? -eq 2"
check "a bad gateway option: exit 2" bash -c \
  "'$rill' gateway --redis $addr --http.listen 0 --gateway.max-clients 0 2>/dev/null; test \$? -eq 2"

printf 's3cret\n' >"$dir/token"
"$rill" gateway --redis "$addr" --http.listen 0 --http.token-file "$dir/token" \
  --gateway.max-clients 8 --gateway.max-streams 4 --gateway.linger 60s --gateway.streams 'pub:*' \
  --gateway.client-buffer 262144 --gateway.heartbeat 1s >"$dir/out" 2>"$dir/log" &
gw=$!
children+=($gw)
hport=$(http_port_of "$dir/log")
base=http://127.0.0.1:$hport
auth=(-H 'Authorization: Bearer s3cret')
check "ready" wait_until 10 http_is "$base/readyz" 200

# -- auth, keys, bad IDs -------------------------------------------------------------
check "no token: 401" test "$(status_code "$base/streams/pub:a/events" -m 2)" = 401
check "wrong token: 401" test "$(status_code "$base/streams/pub:a/events" -m 2 \
  -H 'Authorization: Bearer s3creT')" = 401
check "bearer header: 200" test "$(status_code "$base/streams/pub:a/events" -m 1 "${auth[@]}")" = 200
check "cookie: 200" test "$(status_code "$base/streams/pub:a/events" -m 1 \
  -H 'Cookie: x=1; rill_token=s3cret')" = 200
check "?access_token=: 200" test "$(status_code "$base/streams/pub:a/events?access_token=s3cret" -m 1)" = 200
check "a key outside gateway.streams: 403" test "$(status_code "$base/streams/secret/events" -m 2 "${auth[@]}")" = 403
check "a bad Last-Event-ID: 400" test "$(status_code "$base/streams/pub:a/events" -m 2 "${auth[@]}" \
  -H 'Last-Event-ID: 12-x')" = 400
check "the token never reaches the log" bash -c "! grep -q s3cret '$dir/log'"

# -- resume and gap -------------------------------------------------------------------
for i in $(seq 1 10); do rcli XADD pub:a '*' n "$i" event tick >/dev/null; done
mapfile -t all < <(rcli XRANGE pub:a - + | grep -- '-')
sse "$base/streams/pub:a/events?last_id=0-0" 2 "$dir/from0" "${auth[@]}"
check "last_id=0-0: all 10 entries, in order" test "$(ids_of "$dir/from0" | tr '\n' ' ')" = "${all[*]} "
check "event: from the event field" test "$(grep -c '^event: tick$' "$dir/from0")" = 10
check "data: the fields as JSON" grep -q '^data: {"n":"1","event":"tick"}$' "$dir/from0"
sse "$base/streams/pub:a/events?last_id=0-0" 2 "$dir/hdr" "${auth[@]}" -H "Last-Event-ID: ${all[6]}"
check "Last-Event-ID wins over ?last_id=: the 3 after it" \
  test "$(ids_of "$dir/hdr" | tr '\n' ' ')" = "${all[7]} ${all[8]} ${all[9]} "
# pub:a's last events are in the gateway's memory: a resume within them is
# served from there even after a trim (more, never less). A stream nobody
# followed yet is read from Redis.
rcli XTRIM pub:a MAXLEN 5 >/dev/null
sse "$base/streams/pub:a/events" 2 "$dir/mem" "${auth[@]}" -H "Last-Event-ID: ${all[1]}"
check "a resume within the kept events: all 8 after it, from memory" \
  test "$(ids_of "$dir/mem" | wc -l)" = 8
check "both resumes on pub:a came from memory" \
  test "$(metric "$hport" rill_gateway_resumes_total:from=memory)" = 2
for i in $(seq 1 10); do rcli XADD pub:g '*' n "$i" >/dev/null; done
mapfile -t all < <(rcli XRANGE pub:g - + | grep -- '-')
rcli XTRIM pub:g MAXLEN 5 >/dev/null
sse "$base/streams/pub:g/events" 2 "$dir/gap" "${auth[@]}" -H "Last-Event-ID: ${all[1]}"
check "a trimmed ID: a gap event naming the first entry left" \
  grep -q "^data: {\"after\":\"${all[1]}\",\"first_available\":\"${all[5]}\"}$" "$dir/gap"
check "then the 5 entries that remain" test "$(ids_of "$dir/gap" | tr '\n' ' ')" = "${all[*]:5} "

# -- a live client, one that never reads, the limits, connections ---------------------
sse "$base/streams/pub:b/events" 40 "$dir/live" "${auth[@]}" &
reader=$!
exec 3<>"/dev/tcp/127.0.0.1/$hport" # never read from
printf 'GET /streams/pub:b/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret\r\n\r\n' >&3
check "two clients on pub:b" wait_until 10 metric_is "$hport" rill_gateway_clients 2
sse "$base/streams/pub:c/events" 25 /dev/null "${auth[@]}" &
sse "$base/streams/pub:c/events" 25 /dev/null "${auth[@]}" &
check "four clients" wait_until 10 metric_is "$hport" rill_gateway_clients 4
check "4 streams followed (pub:a, pub:g linger): 1 shared + 4 tailer connections" \
  wait_until 5 connections_are 5
check "a 5th stream takes the place of one without clients" \
  test "$(status_code "$base/streams/pub:d/events" -m 1 "${auth[@]}")" = 200
check "still 1 shared + 4 tailer connections" wait_until 5 connections_are 5
sse "$base/streams/pub:d/events" 40 /dev/null "${auth[@]}" &
sse "$base/streams/pub:e/events" 40 /dev/null "${auth[@]}" &
check "six clients on 4 streams" wait_until 10 metric_is "$hport" rill_gateway_clients 6
check "a 5th stream while all 4 have clients: 503 (gateway.max-streams)" \
  test "$(status_code "$base/streams/pub:f/events" -m 2 "${auth[@]}")" = 503
sse "$base/streams/pub:b/events" 40 /dev/null "${auth[@]}" &
sse "$base/streams/pub:b/events" 40 /dev/null "${auth[@]}" &
check "eight clients" wait_until 10 metric_is "$hport" rill_gateway_clients 8
check "a 9th client: 503 (gateway.max-clients)" \
  test "$(status_code "$base/streams/pub:b/events" -m 2 "${auth[@]}")" = 503
# 20,000 entries of 1 KiB at 2,000/s (20 MB) on pub:b: the silent client
# fills its socket and its 256 KiB buffer and is dropped; the others get
# every entry.
"$rill" produce --redis "$addr" --stream pub:b --count 20000 --payload-bytes 1024 --rate 2000 \
  >/dev/null 2>&1
check "the client that never reads is dropped" wait_until 20 dropped_some
check "a reading client got all 20,000 entries, in order" wait_until 20 same_ids "$dir/live" pub:b
check "heartbeats reach idle streams" wait_until 5 grep -q '^:$' "$dir/live"
check "readyz names the gateway's clients" bash -c "curl -s '$base/readyz' | grep -q gateway"
exec 3>&-
sigterm_exits_0 "$gw" "SIGTERM: exit 0"

check "no gateway connection left in Redis" wait_until 5 connections_are 0
finish
