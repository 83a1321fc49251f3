#!/usr/bin/env bash
# `rill dead-letters list | replay | purge` against a private redis-server:
# what list shows, that replay moves each chosen dead letter back onto its
# stream exactly once (fields as they were, large entries too), and purge.
rill=$1
source "$(dirname "$0")/lib.sh"
start_redis --appendonly no
produce s 100
# 5% fail on every delivery: five dead letters after one delivery each.
timeout 60 "$rill" consume --redis "$addr" --stream s --group g --count 100 --max-in-flight 8 \
  --fail-percent 5 --consumer.max-deliveries=1 >/dev/null 2>&1
check "five dead letters" test "$(rcli XLEN s:dead)" -eq 5
# An entry with 4,100 names and values and no seq, and one with a non-UTF-8 value.
python3 -c 'print("XADD s * " + " ".join("f%d v%d" % (i, i) for i in range(2050)))' | rcli >/dev/null
printf 'XADD s * junk "\\xff\\xfe"\n' | rcli >/dev/null
timeout 60 "$rill" consume --redis "$addr" --stream s --group g --count 2 >/dev/null 2>&1
check "seven dead letters" test "$(rcli XLEN s:dead)" -eq 7

"$rill" dead-letters list --redis "$addr" --stream s >"$dir/list" 2>"$dir/err"
check "list exits 0" test $? -eq 0
check "list prints valid JSON, one line per dead letter" python3 -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
assert len(lines) == 7, len(lines)
failed = [l for l in lines if "drill" in l["reason"]]
assert len(failed) == 5 and all(l["deliveries"] == 1 for l in failed), failed
assert all(l["fields"][0] == "seq" and int(l["fields"][1]) % 100 < 5 for l in failed)
big = [l for l in lines if len(l["fields"]) == 4100]
assert len(big) == 1 and big[0]["fields"][4099] == "v2049", "packed fields"
binary = [l for l in lines if "fields_base64" in l]
assert len(binary) == 1 and binary[0]["fields_base64"][1] == "//4=", binary
' "$dir/list"
"$rill" dead-letters list --redis "$addr" --stream s --count 2 >"$dir/two"
check "list --count 2 prints 2" test "$(wc -l <"$dir/two")" -eq 2

first=$(head -n 1 "$dir/list" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
len_before=$(rcli XLEN s)
"$rill" dead-letters replay --redis "$addr" --stream s --ids "$first" >"$dir/replay" 2>"$dir/err"
check "replay of one exits 0" test $? -eq 0
check "it says 1 replayed" grep -q '"replayed":1,' "$dir/replay"
check "the stream has one more entry" test "$(rcli XLEN s)" -eq $((len_before + 1))
check "the dead stream one less" test "$(rcli XLEN s:dead)" -eq 6
"$rill" dead-letters replay --redis "$addr" --stream s --ids "$first" >"$dir/replay" 2>&1
check "replaying it again finds nothing (exit 1)" test $? -eq 1
check "and names it missing" grep -q "\"missing\":\\[\"$first\"\\]" "$dir/replay"
"$rill" dead-letters replay --redis "$addr" --stream s --all >"$dir/replay" 2>"$dir/err"
check "replay --all exits 0" test $? -eq 0
check "the dead stream is empty" test "$(rcli XLEN s:dead)" -eq 0
check "the stream got all seven back" test "$(rcli XLEN s)" -eq $((len_before + 7))
last=$(rcli XREVRANGE s + - COUNT 3 | grep -c '^v2049$')
check "the large entry came back with all its fields" test "$last" -eq 1
check "no dead_ field came back" test "$(rcli XRANGE s - + | grep -c '^dead_')" -eq 0

"$rill" dead-letters replay --redis "$addr" --stream s >/dev/null 2>"$dir/err"
check "replay without --ids or --all exits 2" test $? -eq 2
"$rill" dead-letters --redis "$addr" --stream s >/dev/null 2>"$dir/err"
check "no action exits 2" test $? -eq 2
timeout 60 "$rill" consume --redis "$addr" --stream s --group g2 --count 109 --fail-percent 5 \
  --consumer.max-deliveries=1 >/dev/null 2>&1
dead=$(rcli XLEN s:dead)
check "dead letters again" test "$dead" -gt 0
"$rill" dead-letters purge --redis "$addr" --stream s --all >"$dir/purge"
check "purge --all deletes every dead letter" grep -q "\"purged\":$dead," "$dir/purge"
check "the dead stream is empty again" test "$(rcli XLEN s:dead)" -eq 0
finish
