#!/usr/bin/env bash
# A 3-master Redis Cluster on loopback: 30 streams spread over every master,
# produced with `rill produce --redis SEEDS` and consumed by one `rill node`:
# every entry processed once, the checksum exact, nothing pending, and the
# connections those of docs/architecture.md (one shared per master in use +
# one per reader). `rill status` names each stream's shard; settings a
# cluster cannot honour are refused with one line (exit 2). Staged effects
# with keys in the stream's slot are applied exactly once.
rill=$1
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"
start_cluster 3 0
n=2000
nstreams=30
sums=0
declare -A on_master
for i in $(seq 0 $((nstreams - 1))); do
  out=$(timeout 30 "$rill" produce --redis "$seeds" --stream "s$i" --count $n 2>>"$dir/produce.log")
  sums="$sums + $(sed -n 's/.*"checksum":\([0-9]*\).*/\1/p' <<<"$out")"
  on_master[$(master_of "s$i")]=1
done
check "the 30 streams live on all 3 masters" test "${#on_master[@]}" -eq 3
produced=0
for i in $(seq 0 $((nstreams - 1))); do produced=$((produced + $(ccli XLEN "s$i"))); done
check "rill produce wrote every entry" test "$produced" -eq $((n * nstreams))

streams=()
for i in $(seq 0 $((nstreams - 1))); do streams+=("s$i"); done
node_config "$dir/node.ini" seq "${streams[@]}"
rec=$dir/rec
"$rill" node --config "$dir/node.ini" --redis "$seeds" --record "$rec" \
  --consumer.name-lease=15s >"$dir/node.json" 2>"$dir/node.log" &
node=$!
children+=("$node")
all_recorded() { [ -f "$rec" ] && [ "$(wc -l <"$rec")" -ge $((n * nstreams)) ]; }
check "all $((n * nstreams)) entries processed" wait_until 60 all_recorded

# Every reader holds one connection to its stream's master, the shared one
# one per master (acks, probes, leases); nothing else.
expected=$((3 + nstreams))
check "connections: 3 shared + $nstreams readers" wait_until 10 rill_connections_are $expected
echo "connections: $(rill_connections) (expected $expected)"
per_master=$(for p in "${cluster_ports[@]}"; do
  redis-cli -p "$p" CLIENT LIST | grep -c 'name=rill-reader'
done | tr '\n' ' ')
echo "reader connections per master: $per_master"
check "nothing pending on any stream" wait_until 10 none_pending
sigterm_exits_0 "$node" "the node stops on SIGTERM with 0"
check "each seq exactly once per stream" \
  test "$(sort -n "$rec" | uniq -c | awk -v s=$nstreams '$1 != s' | wc -l)" -eq 0 \
  -a "$(wc -l <"$rec")" -eq $((n * nstreams))
want=$(python3 -c "print(($sums) % 2**64)")
got=$(sed -n 's/.*"role":"workers".*"checksum":\([0-9]*\).*/\1/p' "$dir/node.json")
check "the checksum is exact ($got)" test "$got" = "$want"
check "every reader reports its stream" test "$(grep -c '"role":"reader"' "$dir/node.json")" -eq $nstreams

# -- rill status: every stream, with its shard -------------------------------------
"$rill" status --redis "$seeds" --json >"$dir/status.json" 2>"$dir/status.err"
check "rill status lists the 30 streams" \
  test "$(grep -o '"stream":"s[0-9]*"' "$dir/status.json" | sort -u | wc -l)" -eq $nstreams
s7_master=$(master_of s7)
check "... each with its shard" grep -q "\"stream\":\"s7\",\"shard\":\"127.0.0.1:$s7_master\"" \
  "$dir/status.json"
"$rill" status --redis "$seeds" >"$dir/status.txt" 2>&1
check "... in the table too" grep -q "^s7 .* on 127.0.0.1:$s7_master" "$dir/status.txt"

# -- what a cluster refuses at start: one line, exit 2 -----------------------------
refused() { # expected text, args...
  local want=$1
  shift
  timeout 20 "$rill" consume --redis "$seeds" --stream s0 --group g2 --count 1 "$@" \
    >/dev/null 2>"$dir/err"
  local rc=$?
  [ $rc -eq 2 ] && [ "$(grep -vc ' info ' "$dir/err")" -eq 1 ] && grep -q -- "$want" "$dir/err" \
    || { echo "  rc=$rc: $(cat "$dir/err")"; return 1; }
}
check "a dead-letter key in another slot (CROSSSLOT) is refused" \
  refused "must share a slot" --consumer.dead-letter-stream=s0-dead
check "a database other than 0 is refused" refused "only database 0" --redis.db=1
check "a bad redis.cluster value is refused" refused "redis.cluster: auto, true or false" \
  --redis.cluster=maybe
check "an effect key in another slot is refused (docs/exactly-once.md)" \
  refused "need the stream's hash tag" --effect-counter cnt
check "an effect-keys pattern that can leave the slot is refused" \
  refused "can name keys outside hash slot" '--consumer.effect-keys=["s0:*"]'

# -- exactly-once effects in the stream's slot: one script per batch -------------
timeout 30 "$rill" produce --redis "$seeds" --stream '{fx}' --count 3000 >/dev/null 2>&1
timeout 60 "$rill" consume --redis "$seeds" --stream '{fx}' --group g --count 3000 \
  --effect-counter '{fx}:cnt' --forward-to '{fx}:fwd' >"$dir/fx.json" 2>"$dir/fx.log"
echo "effects in the cluster: $(cat "$dir/fx.json")"
check "effects applied in the cluster: counter exact" test "$(ccli HGET '{fx}:cnt' total)" = 3000
check "... forwarded exactly once" test "$(ccli XLEN '{fx}:fwd')" -eq 3000
check "... no CROSSSLOT" bash -c "! grep -q CROSSSLOT '$dir/fx.log'"
own_tag() {
  timeout 20 "$rill" consume --redis "$seeds" --stream s0 --group g3 --count 1 \
    "--consumer.dead-letter-stream={s0}:dlq" >/dev/null 2>&1
}
check "the stream's own tag is accepted as dead-letter key" own_tag
finish
