#!/usr/bin/env bash
# A master, a replica and three sentinels on loopback (down-after 1 s), all
# with passwords: the master's for rill and the replica, the sentinels' own
# for rill. rill consumes through the sentinels, the master is SIGKILLed
# mid-run, the sentinels promote the replica, and rill follows: every entry
# (all replicated before the consume) is processed, nothing is pending,
# the stream is whole, the connections are those of docs/architecture.md on
# the new master (2) and on one sentinel (2), and no password reaches the
# debug log. Prints the pause the failover caused (docs/sentinel.md).
rill=$1
here=$(dirname "$0")
source "$here/../lib.sh"
source "$here/lib.sh"
start_sentinels 3
n=60000

RILL_REDIS_PASSWORD=$master_pw RILL_SENTINEL_PASSWORD=$sentinel_pw \
  timeout 60 "$rill" produce "${via_sentinels[@]}" --stream s --count $n >/dev/null \
  2>"$dir/produce.log"
check "produced through the sentinels" test "$(mcli "$master_port" XLEN s)" -eq $n
check "the replica holds every entry before the run" wait_until 30 synced "$master_port"

# consume_via_sentinels STREAM NAME: rill consume through the sentinels, 32 workers of 2 ms,
# recording to $dir/NAME.rec, logging at debug level to $dir/NAME.log; the
# passwords from the environment. Sets pid.
consume_via_sentinels() {
  touch "$dir/$2.rec"
  RILL_REDIS_PASSWORD=$master_pw RILL_SENTINEL_PASSWORD=$sentinel_pw \
    "$rill" consume "${via_sentinels[@]}" --stream "$1" --group g --count 0 --max-in-flight 32 \
    --work-us 2000 --record "$dir/$2.rec" --log.level=debug >"$dir/$2.out" 2>"$dir/$2.log" &
  pid=$!
  children+=("$pid")
}
recorded_over() { [ "$(wc -l <"$1")" -gt "$2" ]; } # FILE N

consume_via_sentinels s first
rec=$dir/first.rec
while :; do echo "$(date +%s%3N) $(wc -l <"$rec")"; sleep 0.05; done >"$dir/progress" &
children+=($!)
poller=$!
wait_until 30 recorded_over "$rec" 3000
before=$(wc -l <"$rec")
kill_ms=$(date +%s%3N)
kill -9 "$master_pid"
wait "$master_pid" 2>/dev/null
echo "killed the master (port $master_port) after $before entries"
check "the kill came mid-run" test "$before" -gt 1000 -a "$before" -lt $((n / 2))

check "the sentinels promoted the replica" wait_until 60 master_is "$replica_port"
check "every entry processed, nothing pending" \
  wait_until 90 drained_at "$replica_port" s "$rec" $n
check "the stream still holds all $n entries" test "$(mcli "$replica_port" XLEN s)" -eq $n
echo "processed $(wc -l <"$rec") times for $n entries ($(($(wc -l <"$rec") - n)) again)"
check "rill followed the promotion" \
  grep -q "moved from 127.0.0.1:$master_port to 127.0.0.1:$replica_port" "$dir/first.log"
check "2 connections on the new master (reader + shared)" \
  wait_until 15 test "$(rill_connections_at "$replica_port" mcli)" -eq 2
sentinel_links() {
  local p total=0
  for p in "${sentinel_ports[@]}"; do total=$((total + $(rill_connections_at "$p" scli))); done
  echo $total
}
check "2 connections to the sentinels, on one of them" test "$(sentinel_links)" -eq 2
kill -TERM "$poller"
wait "$poller" 2>/dev/null
# The longest time without progress after the kill: entries in flight finish
# (their callbacks need no Redis), then nothing until the new master answers.
read -r gap resumed < <(awk -v k="$kill_ms" '
  $1 >= k { if (last != "" && $2 == last) { if ($1 - since > g) { g = $1 - since; r = 1 } }
            else { if (r) { resumed = $1 - k; r = 0 } since = $1 }
            last = $2 }
  END { print g + 0, resumed + 0 }' "$dir/progress")
echo "failover: no progress for ${gap} ms, going again ${resumed} ms after the kill"
check "it went on after the failover (${gap} ms without progress)" \
  test "$gap" -gt 0 -a "$gap" -lt 30000
# A graceful switch back (SENTINEL FAILOVER) under a second consumer, the
# first one idle: the old master returns as a replica, is promoted again, and
# both consumers follow it.
mkdir -p "$dir/old-master"
spawn_server "$master_port" mcli --port "$master_port" --bind 127.0.0.1 --save '' \
  --dir "$dir/old-master" --logfile "$dir/old-master.log" --replicaof 127.0.0.1 "$replica_port" \
  "${data_args[@]}" || { echo "cannot restart the master"; exit 1; }
master_pid=$spawned_pid
sentinel_pids+=("$master_pid") # stopped on exit with the others
n2=30000
RILL_REDIS_PASSWORD=$master_pw RILL_SENTINEL_PASSWORD=$sentinel_pw \
  timeout 60 "$rill" produce "${via_sentinels[@]}" --stream s2 --count $n2 >/dev/null \
  2>>"$dir/produce.log"
check "the old master is a synced replica again" wait_until 30 synced "$replica_port"
check "... holding s2" test "$(mcli "$master_port" XLEN s2)" -eq $n2
first=$pid
consume_via_sentinels s2 second
rec2=$dir/second.rec
wait_until 30 recorded_over "$rec2" 3000
before=$(wc -l <"$rec2")
scli "${sentinel_ports[0]}" SENTINEL FAILOVER m >/dev/null
echo "SENTINEL FAILOVER after $before entries of s2"
check "the sentinels switched back to the old master" wait_until 60 master_is "$master_port"
check "every entry of s2 processed across the switch, nothing pending" \
  wait_until 90 drained_at "$master_port" s2 "$rec2" $n2
check "s2 still holds all $n2 entries" test "$(mcli "$master_port" XLEN s2)" -eq $n2
echo "s2: processed $(wc -l <"$rec2") times for $n2 entries ($(($(wc -l <"$rec2") - n2)) again)"
for l in first second; do
  check "consumer of $l followed the switch" \
    grep -q "moved from 127.0.0.1:$replica_port to 127.0.0.1:$master_port" "$dir/$l.log"
done
switched_connections() {
  [ "$(rill_connections_at "$master_port" mcli)" -eq 4 ] \
    && [ "$(rill_connections_at "$replica_port" mcli)" -eq 0 ]
}
check "4 connections on the master (2 per consumer), none left on the replica" \
  wait_until 15 switched_connections
sigterm_exits_0 "$first" "the first consumer stops on SIGTERM with 0"
sigterm_exits_0 "$pid" "the second consumer stops on SIGTERM with 0"
check "no password in the debug log" \
  bash -c "! grep -q -e '$master_pw' -e '$sentinel_pw' '$dir/first.log' '$dir/second.log' '$dir/produce.log'"

# A sentinel that is down is passed over for the next one.
out=$(RILL_SENTINEL_PASSWORD=$sentinel_pw RILL_REDIS_PASSWORD=$master_pw timeout 30 "$rill" \
  produce --redis.sentinels "127.0.0.1:1,127.0.0.1:${sentinel_ports[1]}" \
  --redis.sentinel-master m --stream s3 --count 10 2>/dev/null)
check "a dead first sentinel is passed over" grep -q '"produced":10' <<<"$out"

# Bad Sentinel configuration: one clear line each, no secret.
out=$(timeout 30 "$rill" produce --redis.sentinels "127.0.0.1:${sentinel_ports[0]}" \
  --redis.sentinel-master nosuch --redis.sentinel-password "$sentinel_pw" --stream s \
  --count 1 2>&1 >/dev/null)
rc=$?
echo "unknown master: rc $rc: $(tail -n 1 <<<"$out")"
check "a master no sentinel knows exits 2" test $rc -eq 2
check "... saying so" grep -q "no sentinel named the master 'nosuch'" <<<"$out"
out=$(timeout 30 "$rill" produce --redis.sentinels "127.0.0.1:${sentinel_ports[0]}" \
  --redis.sentinel-master m --redis.sentinel-password wrong-$sentinel_pw --stream s \
  --count 1 2>&1 >/dev/null)
rc=$?
echo "wrong sentinel password: rc $rc: $(tail -n 1 <<<"$out")"
check "a wrong sentinel password exits 1" test $rc -eq 1
check "... naming the sentinel, not the password" \
  bash -c "grep -q 'redis.sentinels' <<<\"\$1\" && ! grep -q -- '$sentinel_pw' <<<\"\$1\"" _ "$out"
finish
