#!/usr/bin/env bash
# Bad TLS files for node links are refused at start with one line and exit 2
# (a reader node used to serve, then abort on the first TCP connection; a
# worker node with an encrypted key prompted for a pass phrase, then ignored
# SIGTERM). An encrypted key with its openssl.passphrase works.
rill=$1
source "$(dirname "$0")/../lib.sh"
start_redis --appendonly no
make_test_ca a b
openssl pkey -in "$tls/a.key" -aes256 -passout pass:sesame -out "$tls/a.enc.key" 2>/dev/null
echo "not a pem file" >"$tls/garbage"
node_port=$((20000 + RANDOM % 12000))

refused() { # label option=file...: the node exits 2 with one line naming the option
  local label=$1 expect=$2
  shift 2
  for role in "--listen 127.0.0.1:$node_port --remote-workers-only" "--join 127.0.0.1:$node_port --max-in-flight 2"; do
    # shellcheck disable=SC2086
    timeout 10 setsid "$rill" node --redis "$addr" $role --stream s --group g "$@" \
      </dev/null >"$dir/out" 2>"$dir/err"
    local rc=$?
    check "$label (${role%% *}): exit 2" test "$rc" -eq 2
    check "$label (${role%% *}): one line naming $expect" \
      test "$(wc -l <"$dir/err")" -eq 1 -a "$(grep -c -- "$expect" "$dir/err")" -eq 1
  done
}
good="--openssl.certificate=$tls/a.pem --openssl.key=$tls/a.key --openssl.cafile=$tls/ca.pem"
refused "missing key" openssl.key "--openssl.certificate=$tls/a.pem" \
  "--openssl.key=$tls/nothing.key" "--openssl.cafile=$tls/ca.pem"
refused "garbage key" openssl.key "--openssl.certificate=$tls/a.pem" \
  "--openssl.key=$tls/garbage" "--openssl.cafile=$tls/ca.pem"
refused "garbage certificate" openssl.certificate "--openssl.certificate=$tls/garbage" \
  "--openssl.key=$tls/a.key" "--openssl.cafile=$tls/ca.pem"
refused "garbage CA file" openssl.cafile "--openssl.certificate=$tls/a.pem" \
  "--openssl.key=$tls/a.key" "--openssl.cafile=$tls/garbage"
refused "mismatched pair" "does not belong" "--openssl.certificate=$tls/a.pem" \
  "--openssl.key=$tls/b.key" "--openssl.cafile=$tls/ca.pem"
refused "encrypted key without passphrase" openssl.passphrase "--openssl.certificate=$tls/a.pem" \
  "--openssl.key=$tls/a.enc.key" "--openssl.cafile=$tls/ca.pem"
check "no pass phrase prompt" test "$(grep -c "pass phrase" "$dir/err" "$dir/out" | awk -F: '{s += $2} END {print s}')" -eq 0
# shellcheck disable=SC2086
"$rill" node --redis "$addr" --listen "127.0.0.1:$node_port" --stream s --group g \
  --openssl.certificate="$tls/a.pem" --openssl.key="$tls/a.enc.key" \
  --openssl.cafile="$tls/ca.pem" --openssl.passphrase=sesame >"$dir/ok.json" 2>"$dir/ok.log" &
ok=$!
children+=("$ok")
check "an encrypted key with its passphrase serves" wait_until 10 grep -q "served on port" "$dir/ok.log"
exec 3<>"/dev/tcp/127.0.0.1/$node_port" && echo "hello" >&3 && exec 3>&-
sleep 0.5
check "a stray TCP connection does not kill it" kill -0 "$ok"
sigterm_exits_0 "$ok" "it stops on SIGTERM with 0"
check "the passphrase is not logged" test "$(grep -c sesame "$dir/ok.log")" -eq 0
finish
