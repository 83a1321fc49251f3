#!/usr/bin/env bash
# A zombie: consumer A is SIGSTOPped past claim-min-idle while its workers
# hold entries; B claims them and finishes everything; A is resumed, its
# workers complete those entries and the fence stops their effects: no
# effect is applied twice (the counter is exact) and A reports them fenced.
rill=$1
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/../observability/lib.sh"
start_redis --appendonly no
n=3000
produce s $n
flags=(--max-in-flight 16 --work-us 20000 --consumer.claim-min-idle=1s
  --consumer.claim-interval=200ms)
consume_fx A "${flags[@]}" --http.listen=127.0.0.1:0
a=$pid
started() { [ "$(counter)" -gt 100 ] 2>/dev/null; }
check "A applies effects" wait_until 30 started
kill -STOP "$a"
held=$(pending_of s g A)
echo "A stopped with $held entries pending for it, counter $(counter)"
check "A holds entries while stopped" test "$held" -gt 0
consume_fx B "${flags[@]/20000/500}"
b=$pid
b_done() { [ "$(pending s g)" -eq 0 ] && [ "$(counter)" = "$n" ]; }
check "B claims A's entries and finishes all" wait_until 60 b_done
kill -CONT "$a"
fenced_logged() { grep -q "fenced" "$dir/log.A"; }
check "A, resumed, reports its entries fenced" wait_until 20 fenced_logged
sleep 1 # A's last scripts
a_port=$(http_port_of "$dir/log.A")
fenced_metric=$(metric "$a_port" rill_effects_fenced_total)
echo "A's /metrics: fenced $fenced_metric, applied $(metric "$a_port" rill_effects_applied_total)"
check "A's /metrics counts them (rill_effects_fenced_total)" test "${fenced_metric%.*}" -ge "$held"
sigterm_exits_0 "$a" "A exits 0 on SIGTERM"
sigterm_exits_0 "$b" "B exits 0 on SIGTERM"
fenced=$(grep -o '"fenced":[0-9]*' "$dir/out.A" | cut -d: -f2)
echo "A fenced $fenced entries; $(grep -c 'fenced, its effects not applied' "$dir/log.A") log lines"
check "A's summary counts them fenced" test "${fenced:-0}" -ge "$held"
check "B claimed from A" grep -q "claimed" "$dir/log.B"
check_exact $n
finish
