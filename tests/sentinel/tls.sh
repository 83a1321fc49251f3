#!/usr/bin/env bash
# TLS to the sentinels with the same options as to the master: a TLS-only
# sentinel watching a master over TLS (tls-replication), rill asks it and
# produces and consumes 10,000 entries through it over TLS; the sentinel
# holds rill's 2 connections (query + subscription); a sentinel certificate
# from another CA stops the start with one line and exit 1.
rill=$1
here=$(dirname "$0")
source "$here/../lib.sh"
source "$here/lib.sh"
tls=$dir/tls
mkdir -p "$tls"
for ca in ca other-ca; do
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$ca" \
    -keyout "$tls/$ca.key" -out "$tls/$ca.pem" 2>/dev/null
done
openssl req -newkey rsa:2048 -nodes -subj "/CN=server" -keyout "$tls/server.key" \
  -out "$tls/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$tls/server.ext"
openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" \
  -CAcreateserial -days 2 -extfile "$tls/server.ext" -out "$tls/server.pem" 2>/dev/null
server_tls=(--tls-cert-file "$tls/server.pem" --tls-key-file "$tls/server.key"
  --tls-ca-cert-file "$tls/ca.pem" --tls-auth-clients no)
tcli() { redis-cli --tls --cacert "$tls/ca.pem" -p "$@"; } # PORT ARGS...

spawn_on_free_port tcli --port 0 --tls-port "{port}" --bind 127.0.0.1 --save '' --dir "$dir" \
  --logfile "$dir/master.log" "${server_tls[@]}"
master_port=$spawned_port
sentinel_pids+=("$spawned_pid") # stopped on exit with the sentinel
conf=$dir/sentinel.conf
cat >"$conf" <<CONF
bind 127.0.0.1
dir $dir
tls-replication yes
sentinel monitor m 127.0.0.1 $master_port 1
CONF
spawn_on_free_port tcli "$conf" --sentinel --port 0 --tls-port "{port}" \
  --logfile "$dir/sentinel.log" "${server_tls[@]}"
sentinel=$spawned_port
sentinel_pids+=("$spawned_pid")
knows_master() { tcli "$sentinel" SENTINEL master m | grep -qx 'master'; }
check "the sentinel watches the master over TLS" wait_until 20 knows_master

n=10000
via=(--redis.sentinels "127.0.0.1:$sentinel" --redis.sentinel-master m --redis.tls
  --redis.tls-ca-file="$tls/ca.pem")
timeout 60 "$rill" produce "${via[@]}" --stream s --count $n >"$dir/produced" 2>"$dir/p.err"
check "produce through the TLS sentinel exits 0" test $? -eq 0
check "the master holds $n entries" test "$(tcli "$master_port" XLEN s)" -eq $n
"$rill" consume "${via[@]}" --stream s --group g --count 0 >"$dir/consumed" 2>"$dir/c.err" &
pid=$!
children+=("$pid")
done_all() { [ "$(tcli "$master_port" XINFO GROUPS s | sed -n '/^entries-read$/{n;p}')" = $n ]; }
check "consume through the TLS sentinel reads all $n" wait_until 60 done_all
check "nothing pending" wait_until 10 test "$(tcli "$master_port" XPENDING s g | head -n 1)" = 0
check "2 rill connections on the sentinel" \
  test "$(tcli "$sentinel" CLIENT LIST | grep -c ' name=rill')" -eq 2
check "2 on the master" test "$(tcli "$master_port" CLIENT LIST | grep -c ' name=rill')" -eq 2
sigterm_exits_0 "$pid" "the consumer stops on SIGTERM with 0"

timeout 30 "$rill" produce --redis.sentinels "127.0.0.1:$sentinel" --redis.sentinel-master m \
  --redis.tls --redis.tls-ca-file="$tls/other-ca.pem" --stream s --count 1 >/dev/null 2>"$dir/err"
rc=$?
echo "sentinel certificate from another CA: rc $rc: $(tail -n 1 "$dir/err")"
check "a sentinel certificate from another CA exits 1" test $rc -eq 1
check "... with one line (besides warnings) about the certificate" \
  test "$(grep -vc ' info \| warning ' "$dir/err")" -eq 1 \
  -a "$(grep -v ' info \| warning ' "$dir/err" | grep -c 'certificate does not verify')" -eq 1
finish
