# Shared by the observability tests (after tests/lib.sh).
obs_lib=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# http_port_of LOG: the port a rill process logged it serves HTTP on.
http_port_of() {
  local p
  for _ in $(seq 100); do
    p=$(grep -o 'dashboard on port [0-9]*' "$1" 2>/dev/null | grep -o '[0-9]*$' | head -n 1)
    [ -n "$p" ] && { echo "$p"; return 0; }
    sleep 0.1
  done
  return 1
}

# metric PORT NAME[:label=value,...]...: values from /metrics (checked by exposition.py).
metric() {
  local port=$1
  shift
  curl -sf "http://127.0.0.1:$port/metrics" | python3 "$obs_lib/exposition.py" "$@"
}

# status_code URL [curl args...]
status_code() {
  local url=$1
  shift
  curl -s -o /dev/null -w '%{http_code}' "$@" "$url"
}

# http_is URL CODE: the URL answers with CODE now (for wait_until).
http_is() { [ "$(status_code "$1")" = "$2" ]; }

# metric_is PORT NAME VALUE: /metrics shows NAME = VALUE now (for wait_until).
metric_is() { [ "$(metric "$1" "$2")" = "$3" ]; }
