#!/usr/bin/env bash
# Messages out, measured in one run on this machine (docs/performance.md):
#   1. the cost an outbox entry adds to the write that carries it: PATCH /v1/account
#      with no webhook vs with one (to a local receiver), as a ratio;
#   2. webhook deliveries per second: PATCH load on a node with 8 webhook URLs (8
#      deliveries per write), then the time until its outbox is empty;
#   3. STREAMS concurrent event streams (GET /v1/events) on one node: RSS added,
#      GET /v1/account against the floor while they are open, and the latency
#      from an admin notification to its arrival on the user's stream (p50/p99).
# Receivers and floor: bench/floor_server (bare cpp-httplib, 2-byte answers).
# Everything listens on 127.0.0.1; every load is bounded in time.
# Usage: bench/messages.sh [duration-seconds=10] [streams=10000] [notifications=1000] [users=1000]
set -euo pipefail
cd "$(dirname "$0")/.."
DUR="${1:-10}"; STREAMS="${2:-10000}"; NOTES="${3:-1000}"; USERS="${4:-1000}"
CONN=64; THREADS=96
WORK_PREFIX=roster-messages source bench/lib.sh
ulimit -n "$(ulimit -Hn)"
KEY="bench-admin-key-0123456789"

wrk_run() { # name url lua → "rps p50 p99 non2xx requests"
  local out="$WORK/$1.txt"
  if [ -n "$3" ]; then wrk -t2 -c"$CONN" -d"${DUR}s" --latency -s "$3" "$2" > "$out"
  else wrk -t2 -c"$CONN" -d"${DUR}s" --latency "$2" > "$out"; fi
  echo "$(parse < "$out") $(requests_of "$out")"
}
start_node() { # name port [env...] → pid in NODE_PID
  local name=$1 port=$2; shift 2
  env "$@" ROSTER_HTTP_THREADS="$THREADS" ROSTER_HTTP_MAX_CONNECTIONS_PER_ADDRESS=20000 \
    "$BUILD/roster" serve --http-listen "127.0.0.1:$port" --data-dir "$WORK/$name" --admin-key "$KEY" --log-level warn \
    > "$WORK/$name.log" 2>&1 &
  NODE_PID=$!
  PIDS+=("$NODE_PID")
  wait_http "$port" /healthz
}
outbox_depth() { curl -s -H "X-Admin-Key: $KEY" "http://127.0.0.1:$1/debug/actors" | python3 -c 'import json,sys; print(json.load(sys.stdin)["outbox_depth"])'; }
rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

echo "== Roster messages bench: $(nproc) cores, wrk -t2 -c$CONN -d${DUR}s, $STREAMS streams, $NOTES notifications"
FP=$(free_port)
"$BUILD/floor_server" "$FP" "$THREADS" & PIDS+=($!)
wait_http "$FP" /
read -r F_RPS F_P50 F_P99 _ _ < <(wrk_run floor "http://127.0.0.1:$FP/" "")

# 1. PATCH without and with one webhook.
P0=$(free_port); start_node plain "$P0"; PLAIN=$NODE_PID
python3 -c "import sys; sys.path.insert(0,'bench'); from client import *; patch_lua('$WORK/plain.lua', guest_tokens($P0, $USERS))"
read -r W0_RPS W0_P50 W0_P99 W0_BAD _ < <(wrk_run patch-plain "http://127.0.0.1:$P0/v1/account" "$WORK/plain.lua")
kill "$PLAIN"
P1=$(free_port); start_node hooked "$P1" ROSTER_WEBHOOKS_URLS="http://127.0.0.1:$FP/hook" ROSTER_WEBHOOKS_SECRET=bench-webhook-secret-0123
HOOKED=$NODE_PID
python3 -c "import sys; sys.path.insert(0,'bench'); from client import *; patch_lua('$WORK/hooked.lua', guest_tokens($P1, $USERS))"
read -r W1_RPS W1_P50 W1_P99 W1_BAD _ < <(wrk_run patch-hooked "http://127.0.0.1:$P1/v1/account" "$WORK/hooked.lua")
kill "$HOOKED"
# The write path alone: the receiver accepts connections and never answers, and
# one send is in flight at a time (each waits out its 10 s timeout), so nearly
# every entry is written, announced to the sender and queued, and not sent.
DEAD=$(free_port)
python3 -c "import socket,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', $DEAD)); s.listen(64); time.sleep($DUR * 3 + 60)" &
PIDS+=($!)
P4=$(free_port); start_node deferred "$P4" ROSTER_WEBHOOKS_URLS="http://127.0.0.1:$DEAD/hook" \
  ROSTER_WEBHOOKS_SECRET=bench-webhook-secret-0123 ROSTER_OUTBOX_IN_FLIGHT=1
DEFERRED=$NODE_PID
python3 -c "import sys; sys.path.insert(0,'bench'); from client import *; patch_lua('$WORK/deferred.lua', guest_tokens($P4, $USERS))"
read -r W3_RPS W3_P50 W3_P99 W3_BAD _ < <(wrk_run patch-deferred "http://127.0.0.1:$P4/v1/account" "$WORK/deferred.lua")
kill "$DEFERRED"

# 2. Webhook deliveries per second: 8 URLs, PATCH load, then drain.
URLS=$(python3 -c "print(','.join('http://127.0.0.1:$FP/hook/%d' % i for i in range(8)))")
P2=$(free_port); start_node fanout "$P2" ROSTER_WEBHOOKS_URLS="$URLS" ROSTER_WEBHOOKS_SECRET=bench-webhook-secret-0123
FAN=$NODE_PID
python3 -c "import sys; sys.path.insert(0,'bench'); from client import *; patch_lua('$WORK/fan.lua', guest_tokens($P2, $USERS))"
sleep 2  # the guests' own user.registered events are sent
T0=$(date +%s.%N)
read -r W2_RPS _ _ W2_BAD W2_REQ < <(wrk_run patch-fanout "http://127.0.0.1:$P2/v1/account" "$WORK/fan.lua")
T1=$(date +%s.%N)
LEFT=$(outbox_depth "$P2")
for _ in $(seq 1200); do [ "$(outbox_depth "$P2")" = 0 ] && break; sleep 0.1; done
T2=$(date +%s.%N)
SENT=$(curl -s "http://127.0.0.1:$P2/metrics" | awk '/^roster_outbox\{figure="sent_total"\}/ {print $2}')
FAILS=$(curl -s "http://127.0.0.1:$P2/metrics" | awk '/^roster_outbox\{figure="failures_total"\}/ {print $2}')
kill "$FAN"

# 3. Event streams.
P3=$(free_port); start_node streams "$P3"
SP=$NODE_PID
python3 - "$P3" "$WORK" "$STREAMS" <<'PY'
import base64, sys, uuid; sys.path.insert(0, "bench"); from client import *
port, work, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
tokens = guest_tokens(port, n)
ids = [str(uuid.UUID(bytes=base64.urlsafe_b64decode(t + "==")[:16])) for t in tokens]
open(f"{work}/tokens", "w").write("\n".join(tokens))
open(f"{work}/ids", "w").write("\n".join(ids))
account_lua(f"{work}/account.lua", tokens[:64])
PY
read -r A0_RPS _ _ _ _ < <(wrk_run account-before "http://127.0.0.1:$P3/v1/account" "$WORK/account.lua")
RSS0=$(rss_kib "$SP")
coproc EV { python3 bench/events_client.py "$P3" "$KEY" "$WORK/tokens" "$WORK/ids" "$NOTES" "$WORK/events.json"; }
read -r READY <&"${EV[0]}"
sleep 2
RSS1=$(rss_kib "$SP")
OPEN=$(curl -s "http://127.0.0.1:$P3/metrics" | awk '/^roster_http_edge\{figure="open_connections"\}/ {print $2}')
read -r A1_RPS A1_P50 A1_P99 A1_BAD _ < <(wrk_run account-streams "http://127.0.0.1:$P3/v1/account" "$WORK/account.lua")
read -r F2_RPS _ _ _ _ < <(wrk_run floor2 "http://127.0.0.1:$FP/" "")
echo go >&"${EV[1]}"
wait "$EV_PID" || true
THREADS_NODE=$(ls /proc/$SP/task | wc -l)
kill "$SP"

python3 - <<PY
import json
ev = json.load(open("$WORK/events.json"))
f = ($F_RPS + $F2_RPS) / 2
w0, w1 = $W0_RPS, $W1_RPS
drain = $T2 - $T1
total = $T2 - $T0
deliveries = 8 * $W2_REQ
print()
print("| measure | value | target |")
print("|---|---|---|")
print(f"| floor (mean of {$F_RPS:,.0f} and {$F2_RPS:,.0f} req/s) | {f:,.0f} req/s | |")
print(f"| PATCH /v1/account, no webhook | {w0:,.0f} req/s (p99 $W0_P99 ms, non-2xx $W0_BAD) | |")
print(f"| PATCH /v1/account, one webhook (an outbox entry per write) | {w1:,.0f} req/s (p99 $W1_P99 ms, non-2xx $W1_BAD) | |")
print(f"| cost with the deliveries (and the receiver) on the same cores | {(1 - w1 / w0) * 100:.1f}% of PATCH throughput | |")
print(f"| PATCH /v1/account, one webhook, deliveries held back (a receiver that never answers, one send in flight) | {$W3_RPS:,.0f} req/s (p99 $W3_P99 ms, non-2xx $W3_BAD) | |")
print(f"| cost of the outbox entry on the write path | {(1 - $W3_RPS / w0) * 100:.1f}% of PATCH throughput | <= 10% |")
print(f"| PATCH with 8 webhooks | {$W2_RPS:,.0f} req/s, {deliveries:,} deliveries made | |")
print(f"| webhook deliveries/s over load + drain | {deliveries / total:,.0f}/s ({deliveries:,} in {total:.1f} s; $LEFT pending when the load stopped, drained in {drain:.1f} s) | >= 2,000/s |")
print(f"| deliveries counted by the node / failed attempts | $SENT / $FAILS | |")
print(f"| event streams open | {ev['opened']:,} of {ev['streams']:,} (edge connections open meanwhile: $OPEN) | 10,000 |")
print(f"| RSS added by the streams | {($RSS1 - $RSS0) / 1024:.0f} MiB ({$RSS0/1024:.0f} -> {$RSS1/1024:.0f} MiB; {($RSS1 - $RSS0) * 1024 / max(1, ev['opened']):,.0f} bytes per stream) | <= 300 MiB |")
print(f"| GET /v1/account with the streams open | {$A1_RPS:,.0f} req/s = {$A1_RPS / f:.2f} of floor (before opening them: {$A0_RPS:,.0f}; p99 $A1_P99 ms) | >= 0.50 of floor |")
print(f"| admin notification -> its stream, {ev['received']} of {ev['sent']} | p50 {ev['p50_ms']} ms, p99 {ev['p99_ms']} ms, max {ev['max_ms']} ms | p99 <= 50 ms |")
print(f"| node threads at the end | $THREADS_NODE | |")
PY
