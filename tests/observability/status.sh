#!/usr/bin/env bash
# `rill status` against prepared streams reports exactly their figures.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib.sh"
rill=$1
start_redis

# st: 10 entries; group g read 6 (c1 5 of them, c2 1), acked 2 of c1's;
# 3 dead letters. So: lag 4, pending 4 (c1 3, c2 1), entries-read 6.
for i in $(seq 10); do rcli XADD st '*' k "v$i" >/dev/null; done
rcli XGROUP CREATE st g 0 >/dev/null
rcli XREADGROUP GROUP g c1 COUNT 5 STREAMS st '>' >/dev/null
rcli XREADGROUP GROUP g c2 COUNT 1 STREAMS st '>' >/dev/null
mapfile -t ids < <(rcli XRANGE st - + | grep -E '^[0-9]+-[0-9]+$')
rcli XACK st g "${ids[0]}" "${ids[1]}" >/dev/null
for i in 1 2 3; do rcli XADD st:dead '*' x y >/dev/null; done
# other: a group that read nothing; Redis reports its lag once entries were
# deleted in the range only as nil, so rill counts (lag_estimated).
for i in $(seq 5); do rcli XADD other '*' k "v$i" >/dev/null; done
rcli XGROUP CREATE other h 0 >/dev/null
rcli XREADGROUP GROUP h c9 COUNT 1 STREAMS other '>' >/dev/null
mapfile -t oids < <(rcli XRANGE other - + | grep -E '^[0-9]+-[0-9]+$')
rcli XDEL other "${oids[2]}" >/dev/null
sleep 0.2

"$rill" status --redis "$addr" --stream st --stream other --json >"$dir/status.json" 2>"$dir/err"
check "status --json exits 0" test $? -eq 0
check "st: exactly the prepared figures" python3 - "$dir/status.json" "${ids[5]}" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
s = doc["streams"][0]
assert s["stream"] == "st" and s["length"] == 10 and s["dead_letters"] == 3, s
assert s["dead_letter_stream"] == "st:dead"
(g,) = s["groups"]
assert (g["group"], g["lag"], g["lag_estimated"], g["pending"], g["entries_read"]) == ("g", 4, False, 4, 6), g
assert g["last_delivered_id"] == sys.argv[2], g
assert g["oldest_pending_consumer"] == "c1" and g["oldest_pending_idle_ms"] >= 200, g
assert g["oldest_undelivered_age_ms"] >= 200, g
assert [(c["consumer"], c["pending"]) for c in g["consumers"]] == [("c1", 3), ("c2", 1)], g
assert all(c["idle_ms"] >= 200 for c in g["consumers"]), g
PY
check "other: lag counted where Redis has none (3 of 4 left after a delete)" \
  python3 - "$dir/status.json" <<'PY'
import json, sys
(g,) = json.load(open(sys.argv[1]))["streams"][1]["groups"]
assert (g["group"], g["lag"], g["lag_estimated"], g["pending"]) == ("h", 3, True, 1), g
PY
"$rill" status --redis "$addr" --json >"$dir/all.json"
check "without --stream: SCAN finds both streams, the dead-letter stream with its stream" \
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert [s["stream"] for s in d["streams"]] == ["other", "st"], d' "$dir/all.json"
"$rill" status --redis "$addr" --group g --stream st >"$dir/table"
check "the table shows the group's row" grep -Eq '^  g +4 +4 +6 ' "$dir/table"
check "the table lists both consumers" bash -c "grep -q 'c1 .*pending 3' '$dir/table' && grep -q 'c2 .*pending 1' '$dir/table'"
timeout 3.5 "$rill" status --redis "$addr" --stream st --json --watch 1 >"$dir/watch"
check "--watch 1 refreshes (3 reports in 3.5 s)" test "$(wc -l <"$dir/watch")" -ge 3
"$rill" status --redis "$addr" --stream nosuch >/dev/null 2>"$dir/err2"
check "a missing stream: exit 1" test $? -eq 1
check "... with one clear line" grep -q "stream 'nosuch'" "$dir/err2"
"$rill" status --redis "$addr" --watch x 2>/dev/null
check "a bad --watch: exit 2" test $? -eq 2
bad=$'b\xffd'
rcli XADD "$bad" '*' k v >/dev/null
"$rill" status --redis "$addr" --stream "$bad" --json >"$dir/bad.json"
check "a non-UTF-8 stream name: JSON with base64" python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))["streams"][0]
assert s["stream_base64"] == "Yv9k", s' "$dir/bad.json"
finish
