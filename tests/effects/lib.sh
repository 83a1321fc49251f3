#!/usr/bin/env bash
# Shared by the exactly-once tests: the drill's consumer and the checks of
# what Redis holds afterwards (docs/exactly-once.md).
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

# consume_fx NAME EXTRA...: a consumer of s/g whose every entry does
# HINCRBY cnt total 1 and XADD fwd <fields> src <id>, atomically with its XACK.
consume_fx() {
  "$rill" consume --redis "$addr" --stream s --group g --count 0 --consumer "$1" \
    --effect-counter cnt --forward-to fwd "${@:2}" >>"$dir/out.$1" 2>>"$dir/log.$1" &
  pid=$!
  children+=("$pid")
}

counter() { rcli HGET cnt total; }

# Distinct src values in the forward stream.
distinct_srcs() {
  rcli XRANGE fwd - + | awk 'prev == "src" { print } { prev = $0 }' | sort -u | wc -l
}

# check_exact N: the counter, the forward stream and its sources say N, nothing pending.
check_exact() {
  echo "counter $(counter), forwarded $(rcli XLEN fwd), distinct src $(distinct_srcs), pending $(pending s g)"
  check "HGET cnt total is exactly $1" test "$(counter)" = "$1"
  check "the forward stream holds exactly $1 entries" test "$(rcli XLEN fwd)" -eq "$1"
  check "with $1 distinct src" test "$(distinct_srcs)" -eq "$1"
  check "nothing pending" test "$(pending s g)" -eq 0
}
