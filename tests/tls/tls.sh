#!/usr/bin/env bash
# TLS to Redis through the rill binary, against redis-servers with --tls-port
# and a test CA made here: 100,000 entries produced and consumed exactly over
# TLS (also via a rediss:// URL); a server certificate from another CA, a
# name that does not match and a plaintext server are refused at start with
# one line and exit 1 (never a hang); redis.tls-insecure accepts them with a
# warning; mutual TLS works with a client certificate and fails clearly
# without. And redis:// URLs: the password of one never reaches the output.
rill=$1
source "$(dirname "$0")/../lib.sh"
tls=$dir/tls
mkdir -p "$tls"
# make_ca NAME / make_cert CA NAME SAN: PEM files in $tls.
make_ca() {
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$1" \
    -keyout "$tls/$1.key" -out "$tls/$1.pem" 2>/dev/null
}
make_cert() {
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$2" -keyout "$tls/$2.key" \
    -out "$tls/$2.csr" 2>/dev/null
  printf 'subjectAltName=%s\n' "$3" >"$tls/$2.ext"
  openssl x509 -req -in "$tls/$2.csr" -CA "$tls/$1.pem" -CAkey "$tls/$1.key" \
    -CAcreateserial -days 2 -extfile "$tls/$2.ext" -out "$tls/$2.pem" 2>/dev/null
}
make_ca ca
make_ca other-ca
make_cert ca server "IP:127.0.0.1,DNS:localhost"
make_cert ca client "DNS:rill-client"
make_cert other-ca impostor "IP:127.0.0.1,DNS:localhost"

tport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
start_redis --tls-port "$tport" --tls-cert-file "$tls/server.pem" --tls-key-file "$tls/server.key" \
  --tls-ca-cert-file "$tls/ca.pem" --tls-auth-clients no
taddr=127.0.0.1:$tport
ca=(--redis.tls --redis.tls-ca-file="$tls/ca.pem")

# -- 1. 100,000 entries each way over TLS ------------------------------------------
n=100000
out=$(timeout 120 "$rill" produce --redis "$taddr" "${ca[@]}" --stream s --count $n 2>"$dir/p.err")
check "produce over TLS exits 0" test $? -eq 0
check "... and wrote $n entries" test "$(rcli XLEN s)" -eq $n
want=$(sed -n 's/.*"checksum":\([0-9]*\).*/\1/p' <<<"$out")
got=$(timeout 120 "$rill" consume --redis "$taddr" "${ca[@]}" --stream s --group g --count $n \
  --record "$dir/rec" 2>"$dir/c.err" | sed -n 's/.*"checksum":\([0-9]*\).*/\1/p')
check "consume over TLS: the checksum matches ($got)" test -n "$got" -a "$got" = "$want"
check "... every seq exactly once" test "$(distinct "$dir/rec")" -eq $n -a "$(wc -l <"$dir/rec")" -eq $n
check "... nothing pending" test "$(pending s g)" -eq 0
check "... the connections are TLS ones" grep -q "connected" "$dir/c.err"
url_out=$(timeout 30 "$rill" produce --redis "rediss://$taddr" --redis.tls-ca-file="$tls/ca.pem" \
  --stream u --count 100 2>&1)
check "a rediss:// URL turns TLS on" test "$(rcli XLEN u)" -eq 100
by_name() {
  timeout 30 "$rill" produce --redis "localhost:$tport" "${ca[@]}" --stream h --count 10 \
    >/dev/null 2>&1
}
check "the host name is checked too (localhost is in the certificate)" by_name

# -- 2. refused at start: one line, exit 1, no hang ----------------------------------
refused() { # expected text, rill args...
  local want=$1
  shift
  timeout 20 "$rill" "$@" >/dev/null 2>"$dir/err"
  local rc=$?
  [ $rc -eq 1 ] && [ "$(grep -vc ' info \| warning ' "$dir/err")" -eq 1 ] \
    && grep -q -- "$want" "$dir/err" || { echo "  rc=$rc: $(cat "$dir/err")"; return 1; }
}
check "produce: a server certificate from another CA" \
  refused "certificate does not verify" produce --redis "$taddr" --redis.tls \
  --redis.tls-ca-file="$tls/other-ca.pem" --stream x --count 1
check "consume: the same, at start-up" \
  refused "certificate does not verify" consume --redis "$taddr" --redis.tls \
  --redis.tls-ca-file="$tls/other-ca.pem" --stream s --group g2 --count 1
check "a name the certificate does not carry" \
  refused "certificate does not verify" produce --redis "$taddr" "${ca[@]}" \
  --redis.tls-server-name=redis.example.com --stream x --count 1
check "TLS to a plaintext port" refused "TLS handshake" produce --redis "$addr" "${ca[@]}" \
  --stream x --count 1
check "an unreadable CA file is a config error (exit 2)" \
  sh -c "timeout 20 '$rill' produce --redis '$taddr' --redis.tls \
    --redis.tls-ca-file=/nonexistent.pem --stream x --count 1 >/dev/null 2>&1; test \$? -eq 2"
insecure=$(timeout 30 "$rill" produce --redis "$taddr" --redis.tls --redis.tls-insecure \
  --redis.tls-ca-file="$tls/other-ca.pem" --stream i --count 10 2>&1)
check "redis.tls-insecure accepts it" test "$(rcli XLEN i)" -eq 10
check "... with a warning" grep -q "tls-insecure" <<<"$insecure"

# -- 3. mutual TLS -----------------------------------------------------------------
mport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mdir=$dir/mtls
mkdir -p "$mdir"
redis-server --port 0 --tls-port "$mport" --bind 127.0.0.1 --save '' --dir "$mdir" \
  --tls-cert-file "$tls/server.pem" --tls-key-file "$tls/server.key" \
  --tls-ca-cert-file "$tls/ca.pem" --tls-auth-clients yes --logfile "$mdir/log" &
children+=($!)
wait_until 10 sh -c "grep -qs 'Ready to accept' '$mdir/log'"
with_client_cert() {
  timeout 30 "$rill" produce --redis "127.0.0.1:$mport" "${ca[@]}" \
    --redis.tls-cert-file="$tls/client.pem" --redis.tls-key-file="$tls/client.key" \
    --stream m --count 1000 >/dev/null 2>&1
}
check "mutual TLS with a client certificate" with_client_cert
check "... fails clearly without one" refused "client certificate" \
  produce --redis "127.0.0.1:$mport" "${ca[@]}" --stream m --count 1

# -- 4. redis:// URLs and the password --------------------------------------------
rcli CONFIG SET requirepass 's3cr3t-PW' >/dev/null
export REDISCLI_AUTH='s3cr3t-PW'
timeout 30 "$rill" produce --redis "redis://:s3cr3t-PW@127.0.0.1:$port/0" --stream pw --count 10 \
  --log.level=debug >"$dir/pw.out" 2>&1
check "a password in a redis:// URL authenticates" test "$(rcli XLEN pw)" -eq 10
check "... and never reaches the output at debug level" test "$(grep -c 's3cr3t' "$dir/pw.out")" -eq 0
timeout 30 "$rill" produce --redis "redis://default:s3cr3t-PW@127.0.0.1:$port/3" --stream pw3 \
  --count 5 >/dev/null 2>&1
check "user and database from the URL" test "$(rcli -n 3 XLEN pw3)" -eq 5
bad_url() { # url, expected text
  timeout 10 "$rill" produce --redis "$1" --stream x --count 1 >/dev/null 2>"$dir/err"
  local rc=$?
  [ $rc -eq 2 ] && [ "$(wc -l <"$dir/err")" -eq 1 ] && grep -q -- "$2" "$dir/err" \
    && ! grep -q 's3cr3t' "$dir/err" || { echo "  rc=$rc: $(cat "$dir/err")"; return 1; }
}
check "a bad scheme exits 2 with one line" bad_url "http://x:1" "unknown scheme"
check "a bad port, without echoing the password" bad_url "redis://:s3cr3t-PW@h:99999" "bad port"
check "a bad database" bad_url "redis://h:1/x" "bad database"
check "no host" bad_url "redis://:s3cr3t-PW@" "no host"
finish
