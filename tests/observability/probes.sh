#!/usr/bin/env bash
# /livez and /readyz: readiness fails within 5 s of Redis stopping and comes
# back after it restarts while liveness stays OK; lag with stuck workers
# fails readiness, naming the check.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib.sh"
source "$here/lib.sh"
rill=$1
start_redis

produce s 100
"$rill" consume --redis "$addr" --stream s --group g --http.listen 0 --metrics.interval 200ms \
  --redis.reconnect-max 500ms >"$dir/out" 2>"$dir/log" &
pid=$!
children+=($pid)
hport=$(http_port_of "$dir/log")
url=http://127.0.0.1:$hport
check "ready once the group is set up" wait_until 10 http_is "$url/readyz" 200
check "live" test "$(status_code "$url/livez")" = 200
curl -s "$url/readyz" >"$dir/ready.json"
check "the body names its checks" python3 -c '
import json, sys
b = json.load(open(sys.argv[1]))
assert b["ok"] is True and [c["name"] for c in b["checks"]] == ["redis", "group s/g"], b' "$dir/ready.json"

stop_redis
t0=$(date +%s%N)
wait_until 10 http_is "$url/readyz" 503
t1=$(date +%s%N)
took=$(((t1 - t0) / 1000000))
echo "readyz failed ${took} ms after Redis stopped"
check "readyz fails within 5 s of Redis stopping (${took} ms)" test "$took" -le 5000
curl -s "$url/readyz" >"$dir/down.json"
check "the failing check is redis" python3 -c '
import json, sys
b = json.load(open(sys.argv[1]))
bad = [c for c in b["checks"] if not c["ok"]]
assert b["ok"] is False and bad[0]["name"] == "redis" and "down" in bad[0]["detail"], b' "$dir/down.json"
check "livez stays OK while Redis is down" test "$(status_code "$url/livez")" = 200
launch_redis || exit 1
check "readyz is OK again after the restart" wait_until 15 http_is "$url/readyz" 200
check "livez still OK" test "$(status_code "$url/livez")" = 200
sigterm_exits_0 "$pid" "consume exits 0"

# Stuck workers: each callback waits 10 minutes, 2 workers, 10 entries: lag
# stays > 0 and nothing completes for longer than http.ready-stall.
produce stuck 10
"$rill" consume --redis "$addr" --stream stuck --group g --work-us 600000000 --max-in-flight 2 \
  --http.listen 0 --http.ready-stall 2s --metrics.interval 200ms >"$dir/out2" 2>"$dir/log2" &
pid2=$!
children+=($pid2)
hport2=$(http_port_of "$dir/log2")
url2=http://127.0.0.1:$hport2
check "stuck: ready at first" wait_until 10 http_is "$url2/readyz" 200
check "stuck: readyz fails after the stall" wait_until 10 http_is "$url2/readyz" 503
curl -s "$url2/readyz" >"$dir/stuck.json"
check "stuck: the failing check is progress, with the lag" python3 -c '
import json, sys
b = json.load(open(sys.argv[1]))
bad = [c for c in b["checks"] if not c["ok"]]
assert [c["name"] for c in bad] == ["progress stuck/g"] and "lag is 8" in bad[0]["detail"], b' "$dir/stuck.json"
check "stuck: livez OK (the scheduler runs)" test "$(status_code "$url2/livez")" = 200
check "stuck: metrics show 2 in flight, 0 idle workers, lag 8" \
  test "$(metric "$hport2" rill_in_flight rill_idle_workers rill_group_lag | tr '\n' ' ')" = "2 0 8 "
kill -9 "$pid2"
finish
