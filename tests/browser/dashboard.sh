#!/usr/bin/env bash
# The dashboard in headless Chromium: while a consume runs, the page loads,
# its four charts and its table fill with the process's figures (read from
# the DOM by puppeteer-core), and a screenshot lands in the build dir.
# Usage: dashboard.sh RILL BUILD_DIR
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib.sh"
source "$here/../observability/lib.sh"
source "$here/lib.sh"
rill=$1
build=$(cd "$2" && pwd)
start_redis

install_puppeteer "$build" "$here/dashboard.mjs"

# 40,000 entries at 2,000/s (20 s); the callbacks take 2 ms, so entries are in flight.
"$rill" produce --redis "$addr" --stream orders --count 40000 --rate 2000 >/dev/null 2>&1 &
children+=($!)
RILL_HTTP_TOKEN=dash "$rill" consume --redis "$addr" --stream orders --group billing \
  --max-in-flight 8 --work-us 2000 --http.listen 0 --metrics.interval 500ms >"$dir/out" 2>"$dir/log" &
pid=$!
children+=($pid)
hport=$(http_port_of "$dir/log")
check "consume serves HTTP" test -n "$hport"
shot=$build/dashboard.png
rm -f "$shot"
(cd "$npm_dir" && timeout 90 node dashboard.mjs "http://127.0.0.1:$hport/?token=dash" "$shot") \
  >"$dir/seen" 2>"$dir/node.err"
rc=$?
cat "$dir/seen" "$dir/node.err"
check "the page loads and its charts receive data" test $rc -eq 0
check "every chart has points, throughput > 0, the table names the consumer" python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
assert all(v > 0 for v in s["points"].values()), s
assert s["max_rate"] > 0 and s["row"].startswith("orders / billing / "), s
assert int(s["acked"].replace(",", "")) > 0, s' "$dir/seen"
check "a screenshot is saved at $shot" test -s "$shot"
check "without the token the page's data is refused" \
  test "$(status_code "http://127.0.0.1:$hport/api/history")" = 401
finish
