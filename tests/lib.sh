#!/usr/bin/env bash
# Shared by the shell tests: a private redis-server on a free loopback port,
# stopped on exit however the test ends, and pass/fail bookkeeping.
set -u
dir=$(mktemp -d /tmp/rill-test-XXXXXX)
passed=0
failed=0
redis_pid=
redis_args=()
children=()

cleanup() {
  for pid in "${children[@]}"; do kill -9 "$pid" 2>/dev/null; done
  [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null && wait "$redis_pid" 2>/dev/null
  # RILL_TEST_KEEP=DIR keeps the logs of a run there (for a failing test).
  [ -n "${RILL_TEST_KEEP:-}" ] && rm -rf "$RILL_TEST_KEEP" && cp -r "$dir" "$RILL_TEST_KEEP"
  rm -rf "$dir"
}
trap cleanup EXIT

check() { # name, command...
  local name=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
    echo "ok   $name"
  else
    failed=$((failed + 1))
    echo "FAIL $name"
  fi
}

finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}

rcli() { redis-cli -p "$port" "$@"; }

launch_redis() {
  redis-server --port "$port" --bind 127.0.0.1 --save '' --dir "$dir" \
    --logfile "$dir/redis.log" "${redis_args[@]}" &
  redis_pid=$!
  for _ in $(seq 100); do
    rcli ping >/dev/null 2>&1 && return 0
    kill -0 "$redis_pid" 2>/dev/null || break
    sleep 0.05
  done
  kill "$redis_pid" 2>/dev/null
  redis_pid=
  return 1
}

# start_redis [redis-server args...]: sets port, addr, redis_pid.
start_redis() {
  redis_args=("$@")
  for _ in 1 2 3 4 5 6 7 8; do
    # Below the kernel's ephemeral range (32768-60999): a port there can be
    # the local end of some outbound connection, free to a connect probe yet
    # taken for bind (CI, 2026-12-07: a gateway that never served).
    port=$((20000 + RANDOM % 12000))
    launch_redis && break
  done
  [ -n "$redis_pid" ] || { echo "cannot start redis-server"; exit 1; }
  addr=127.0.0.1:$port
}

# stop_redis: SIGTERM (flushes the AOF), wait.
stop_redis() {
  kill -TERM "$redis_pid" && wait "$redis_pid" 2>/dev/null
  redis_pid=
}

# restart_redis: same port, directory and arguments.
restart_redis() {
  stop_redis
  launch_redis || { echo "cannot restart redis-server"; exit 1; }
}

# produce STREAM N: seq 0..N-1 into STREAM with the rill binary under test ($rill).
produce() { "$rill" produce --redis "$addr" --stream "$1" --count "$2" >/dev/null 2>&1; }

# sigterm_exits_0 PID LABEL: stops a process with SIGTERM and checks it exits 0.
sigterm_exits_0() {
  kill -TERM "$1"
  wait "$1"
  check "$2" test $? -eq 0
}

pending() { rcli XPENDING "$1" "$2" | head -n 1; }

# Entries pending for one consumer.
pending_of() { # stream group consumer
  rcli XPENDING "$1" "$2" - + 1000000 "$3" | grep -c -- '-'
}

distinct() { sort -n "$1" | uniq | wc -l; }

# wait_until SECONDS command...: polls every 0.2 s.
wait_until() {
  local limit=$1
  shift
  local end=$((SECONDS + limit))
  while [ $SECONDS -lt $end ]; do
    "$@" && return 0
    sleep 0.2
  done
  return 1
}

# drained STREAM GROUP RECORD N: every seq 0..N-1 recorded and nothing pending.
drained() { [ "$(distinct "$3")" -eq "$4" ] && [ "$(pending "$1" "$2")" -eq 0 ]; }

# make_test_ca NAME...: a test CA in $dir/tls (sets tls) and, for each NAME,
# $tls/NAME.pem and $tls/NAME.key signed by it.
make_test_ca() {
  tls=$dir/tls
  mkdir -p "$tls"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=rill test CA" \
    -keyout "$tls/ca.key" -out "$tls/ca.pem" 2>/dev/null
  local node
  for node in "$@"; do
    openssl req -newkey rsa:2048 -nodes -subj "/CN=$node" -keyout "$tls/$node.key" \
      -out "$tls/$node.csr" 2>/dev/null
    openssl x509 -req -in "$tls/$node.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" \
      -CAcreateserial -days 2 -out "$tls/$node.pem" 2>/dev/null
  done
}
