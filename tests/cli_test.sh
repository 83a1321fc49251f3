#!/usr/bin/env bash
# End-to-end checks of the `rill` binary against a private redis-server:
# exit codes, the JSON lines, --record, a graceful SIGTERM, and `bench nodes`.
# Usage: cli_test.sh path/to/rill
rill=$1
source "$(dirname "$0")/lib.sh"
start_redis --appendonly no

# -- configuration errors: one line, exit 2 --------------------------------------
"$rill" consume --bogus=1 >"$dir/out" 2>"$dir/err"; rc=$?
check "unknown flag exits 2" test "$rc" -eq 2
check "unknown flag prints one line" test "$(wc -l <"$dir/err")" -eq 1
"$rill" consume --redis "$addr" --stream s --group g --count 5 --max-in-flight 0 \
  >"$dir/out" 2>"$dir/err"; rc=$?
check "bad value exits 2" test "$rc" -eq 2
check "bad value names the option" grep -q "max-in-flight" "$dir/err"
"$rill" produce --redis "$addr" --count 5 >"$dir/out" 2>"$dir/err"; rc=$?
check "missing --stream exits 2" test "$rc" -eq 2
for args in "consume --rounds 0" "latency --seconds 0" "nodes --max-in-flight 0" \
  "scale --consumer.ack-batch=0"; do
  timeout 20 "$rill" bench $args --redis "$addr" >"$dir/out" 2>"$dir/err"; rc=$?
  check "bench $args exits 2" test "$rc" -eq 2
  check "bench $args prints one line" test "$(wc -l <"$dir/err")" -eq 1
done
for args in "--consumer.start-id=abc" "--consumer.dead-letter-stream=s" \
  "--consumer.claim-min-idle=1us" "--consumer.claim-interval=1us" "--producer.max-in-flight=0" \
  "--redis 127.0.0.1:+6520" "--redis 127.0.0.1:-1"; do
  # shellcheck disable=SC2086
  timeout 20 "$rill" consume --redis "$addr" --stream s --group g --count 1 $args \
    >"$dir/out" 2>"$dir/err"; rc=$?
  check "consume $args exits 2" test "$rc" -eq 2
  check "consume $args prints one line" test "$(wc -l <"$dir/err")" -eq 1
done
timeout 20 "$rill" produce --redis "$addr" --stream s --count 1 --producer.max-in-flight=0 \
  >"$dir/out" 2>"$dir/err"; rc=$?
check "produce --producer.max-in-flight=0 exits 2" test "$rc" -eq 2
timeout 5 "$rill" consume --redis "[::1]:1" --stream s --group g --count 1 \
  --redis.connect-timeout=100ms >"$dir/out" 2>"$dir/err"
check "an IPv6 address is printed in brackets" grep -q '\[::1\]:1' "$dir/err"
"$rill" --help >"$dir/out" 2>&1; rc=$?
check "--help exits 0" test "$rc" -eq 0
check "--version prints the version" test "$("$rill" --version)" = "rill 0.1.0"
"$rill" consume --help >"$dir/consume.help" 2>&1; rc=$?
check "consume --help exits 0" test "$rc" -eq 0
check "consume --help lists the consumer.* and redis.* options" \
  bash -c "grep -q -- '--consumer.ack-delay=' '$dir/consume.help' && grep -q -- '--redis.password=' '$dir/consume.help'"
check "consume --help does not list other commands' flags" \
  bash -c "! grep -q -e '--listen' -e '--rounds' -e '--ids' '$dir/consume.help'"
"$rill" node --help >"$dir/node.help" 2>&1
check "node --help lists --listen and the TLS files" \
  bash -c "grep -q -- '--listen=' '$dir/node.help' && grep -q -- '--openssl.certificate' '$dir/node.help'"
check "node --help and consume --help differ" bash -c "! cmp -s '$dir/node.help' '$dir/consume.help'"

# -- produce, then consume everything --------------------------------------------
n=20000
"$rill" produce --redis "$addr" --stream s --count $n --payload-bytes 64 >"$dir/produce.json" 2>"$dir/err"
check "produce exits 0" test $? -eq 0
want=$(grep -o '"checksum":[0-9]*' "$dir/produce.json")
check "produce reports $n" grep -q "\"produced\":$n," "$dir/produce.json"
check "XLEN is $n" test "$(rcli XLEN s)" -eq $n

timeout 60 "$rill" consume --redis "$addr" --stream s --group g --count $n --max-in-flight 64 \
  --record "$dir/seqs" >"$dir/consume.out" 2>"$dir/err"
check "consume exits 0" test $? -eq 0
last=$(tail -n 1 "$dir/consume.out")
check "consume JSON is the last stdout line" grep -q '^{"impl":"rill","processed":20000,' <<<"$last"
check "consume checksum equals produce checksum" grep -q "$want}" <<<"$last"
check "record has every seq once" test "$(sort -n "$dir/seqs" | uniq | wc -l)" -eq $n
check "record has no duplicates" test "$(wc -l <"$dir/seqs")" -eq $n
check "nothing pending" test "$(rcli XPENDING s g | head -n 1)" -eq 0

# "0: off" as the help says: a plain 0 for a duration, as flag and in a file
printf 'consumer {\n  consumer-idle-timeout = 0\n}\n' >"$dir/zero.conf"
timeout 60 "$rill" consume --redis "$addr" --stream s --group zero --count 100 --config "$dir/zero.conf" \
  --consumer.claim-min-idle=0 --consumer.callback-timeout=0 --consumer.orphan-check=0 \
  >"$dir/zero.out" 2>"$dir/err"
check "durations of plain 0 are accepted" grep -q '"processed":100,' "$dir/zero.out"

"$rill" consume --redis "$addr" --stream s --group latency --count 100 --measure-latency \
  >"$dir/latency.out" 2>/dev/null
check "--measure-latency adds p50/p99 to the JSON line" \
  grep -qE '"checksum":[0-9]+,"p50_us":[0-9]+,"p99_us":[0-9]+}$' "$dir/latency.out"

# -- SIGTERM: finish in-flight entries, flush acks, exit 0 --------------------------
"$rill" produce --redis "$addr" --stream live --count 6000 --rate 3000 >/dev/null 2>&1 &
producer=$!
"$rill" consume --redis "$addr" --stream live --group g --count 0 --max-in-flight 16 \
  >"$dir/live.out" 2>"$dir/live.err" &
consumer=$!
sleep 1
kill -TERM $consumer
timeout 20 tail --pid=$consumer -f /dev/null
wait $consumer; rc=$?
check "SIGTERM exits 0" test "$rc" -eq 0
check "SIGTERM still prints the JSON line" grep -q '"processed":' "$dir/live.out"
check "nothing pending after SIGTERM" test "$(rcli XPENDING live g | head -n 1)" -eq 0
wait $producer

# -- one consumer name, one process --------------------------------------------------
"$rill" consume --redis "$addr" --stream named --group g --count 0 --consumer twin \
  >/dev/null 2>"$dir/twin1.err" &
twin=$!
wait_until 10 test "$(rcli EXISTS 'rill:owner:{named}:g:twin')" -eq 1
timeout 20 "$rill" consume --redis "$addr" --stream named --group g --count 0 --consumer twin \
  >/dev/null 2>"$dir/twin2.err"
rc=$?
check "a second process with the same consumer name exits 2" test "$rc" -eq 2
check "it says the name is in use" grep -q "is in use by another process" "$dir/twin2.err"
sigterm_exits_0 "$twin" "the first one still stops with 0"
check "a graceful stop gives the name back" test "$(rcli EXISTS 'rill:owner:{named}:g:twin')" -eq 0

# -- bench nodes: child processes of the binary, cleaned up after ---------------------
timeout 120 "$rill" bench nodes --redis "$addr" --count 3000 --rounds 1 --max-in-flight 8 \
  --work-us 200 >"$dir/nodes.out" 2>"$dir/nodes.err"
check "bench nodes exits 0" test $? -eq 0
check "bench nodes reports both runs" \
  grep -qE '"one_node_msgs_per_s":[1-9][0-9]*,"two_nodes_msgs_per_s":[1-9]' "$dir/nodes.out"
check "bench nodes leaves no stream behind" test "$(rcli EXISTS bench:nodes)" -eq 0
node_processes() { # of this binary against this server (from /proc: no procps needed)
  local f n=0
  for f in /proc/[0-9]*/cmdline; do
    tr '\0' ' ' <"$f" 2>/dev/null | grep -q -- "^$rill node --redis $addr " && n=$((n + 1))
  done
  echo $n
}
check "bench nodes leaves no node processes" test "$(node_processes)" -eq 0
check "bench nodes reports CPU per entry of the reader and the worker nodes" \
  grep -qE '"reader_cpu_us_per_entry_2":[0-9.]+,"workers_cpu_us_per_entry_1":[0-9.]+' "$dir/nodes.out"

# -- bench consume --work-us and bench latency: what each measures -------------------
timeout 120 "$rill" bench consume --redis "$addr" --count 2000 --rounds 1 --max-in-flight 8 \
  --work-us 500 >"$dir/work.out" 2>"$dir/work.err"
check "bench consume --work-us exits 0" test $? -eq 0
check "bench consume --work-us states the ideal K/W (8 / 500 us)" \
  grep -q '"ideal_msgs_per_s":16000' "$dir/work.out"
busy=$(grep -o '"busy_fraction":[0-9.]*' "$dir/work.out" | cut -d: -f2)
check "bench consume --work-us: busy fraction in (0, 1]" \
  awk -v b="${busy:-0}" 'BEGIN { exit !(b > 0 && b <= 1) }'
check "bench consume --work-us measures the wait (>= 500 us)" \
  grep -qE '"timer_overshoot":[0-9]' "$dir/work.out"
check "bench consume --work-us leaves no stream behind" test "$(rcli EXISTS bench:rill)" -eq 0
timeout 120 "$rill" bench latency --redis "$addr" --rate 400 --seconds 1 --rounds 2 \
  >"$dir/lat.out" 2>"$dir/lat.err"
check "bench latency exits 0" test $? -eq 0
check "bench latency: rill got every entry of both rounds" \
  grep -qE '"impl":"rill","rate":400,"rounds":2,"samples":800,' "$dir/lat.out"
check "bench latency: the raw floor got every entry of both rounds" \
  grep -qE '"impl":"raw","rate":400,"rounds":2,"samples":800,' "$dir/lat.out"
check "bench latency reports CPU per entry for both" \
  test "$(grep -c '"cpu_us_per_entry":[0-9]' "$dir/lat.out")" -eq 2
check "bench latency leaves no stream behind" \
  test "$(rcli EXISTS bench:latency:1 bench:latency:2 bench:latency:raw:1 bench:latency:raw:2)" -eq 0

# -- secrets: read raw (quotes kept), never echoed; flag, then environment, then file --
secret='s3c"r\et'
rcli ACL SETUSER app on ">$secret" '~*' '&*' '+@all' >/dev/null
ok_consume() { # extra args...: consumes 1 entry of stream 'once' as ACL user app
  timeout 20 "$rill" consume --redis "$addr" --stream once --group "g$RANDOM" --count 1 \
    --redis.connect-timeout=500ms "$@" >"$dir/sec.out" 2>"$dir/sec.err"
}
rcli ACL SETUSER app2 on '>"quoted"' '~*' '&*' '+@all' >/dev/null
rcli XADD once '*' seq 0 >/dev/null
rcli ACL SETUSER default off >/dev/null # from here on only app gets in
ok_consume --redis.user=app "--redis.password=$secret"
check "a password with a quote and a backslash works as given" grep -q '"processed":1,' "$dir/sec.out"
ok_consume --redis.user=app2 '--redis.password="quoted"'
check "quotes around a password are kept" grep -q '"processed":1,' "$dir/sec.out"
RILL_REDIS_USER=app RILL_REDIS_PASSWORD=$secret ok_consume
check "RILL_REDIS_USER / RILL_REDIS_PASSWORD work" grep -q '"processed":1,' "$dir/sec.out"
printf '[redis]\nuser = "app"\npassword = "s3c\\"r\\\\et"\n' >"$dir/secret.ini"
ok_consume --config "$dir/secret.ini"
check "a quoted password in a config file works" grep -q '"processed":1,' "$dir/sec.out"
printf '[redis]\nuser = "app"\npassword = wrong"one\n' >"$dir/wrong.ini"
RILL_REDIS_PASSWORD=$secret ok_consume --config "$dir/wrong.ini"
check "the environment wins over the file" grep -q '"processed":1,' "$dir/sec.out"
RILL_REDIS_PASSWORD=wrong ok_consume --config "$dir/wrong.ini" --redis.password "$secret"
check "the flag wins over the environment" grep -q '"processed":1,' "$dir/sec.out"
timeout 10 "$rill" consume --redis "$addr" --stream once --group g --count 1 --redis.user=app \
  '--redis.password="x' --redis.connect-timeout=300ms --consumer.bogus=1 >/dev/null 2>"$dir/err"
check "a password is not echoed with a bad option" test "$(grep -c '"x' "$dir/err")" -eq 0
timeout 10 "$rill" consume --config "$dir/wrong.ini" --dump-config >"$dir/dump" 2>&1
check "--dump-config redacts the password" test "$(grep -c 'wrong"one' "$dir/dump")" -eq 0
check "--dump-config shows it is set" grep -q 'redacted' "$dir/dump"
timeout 10 "$rill" consume --redis "$addr" --stream once --group g --count 1 --redis.user=app \
  --redis.password=not-it --redis.connect-timeout=300ms >/dev/null 2>"$dir/err"
check "a rejected password is not logged" test "$(grep -c 'not-it' "$dir/err")" -eq 0

finish
