#!/usr/bin/env bash
# GET /v1/account under a slow-client attack, against the same read without
# it, in one run: 2,500 connections from 250 loopback addresses (127.0.1.x),
# each sending one header line every 3 s and reconnecting when the node cuts
# it at the head deadline; wrk reads accounts meanwhile. Prints requests/s
# and p99 of both phases, and the attack's figures. Everything listens on
# 127.0.0.1 and every load is bounded in time.
# Usage: bench/slowloris.sh [duration-seconds=10] [slow-connections=2500]
set -euo pipefail
cd "$(dirname "$0")/.."
DUR="${1:-10}"; SLOW="${2:-2500}"
WORK_PREFIX=roster-slowloris source bench/lib.sh
ulimit -n "$(ulimit -Hn)"

RP=$(free_port)
KEY="bench-admin-key-0123456789"
ROSTER_HTTP_THREADS=96 "$BUILD/roster" serve --http-listen "127.0.0.1:$RP" --data-dir "$WORK/data" \
  --admin-key "$KEY" --log-level warn > "$WORK/roster.log" 2>&1 & PIDS+=($!)
wait_http "$RP" /healthz
python3 - "$RP" "$WORK" <<'PY'
import sys; sys.path.insert(0, "bench"); from client import *
port, work = sys.argv[1], sys.argv[2]
account_lua(f"{work}/account.lua", [call(port, "/v1/sessions/anonymous", {})["session"]["token"] for _ in range(64)])
PY
read_phase() { wrk -t2 -c64 -d"${DUR}s" --latency -s "$WORK/account.lua" "http://127.0.0.1:$RP/v1/account" | parse; }

read -r B_RPS B_P50 B_P99 B_BAD < <(read_phase)

python3 - "$RP" "$SLOW" "$((DUR + 6))" > "$WORK/attack.txt" <<'PY' & PIDS+=($!)
import socket, sys, time
port, n, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
def open_one(i):
    s = socket.socket()
    s.bind((f"127.0.1.{2 + i % 250}", 0))
    s.connect(("127.0.0.1", port))
    s.setblocking(False)
    s.send(b"GET /v1/account HTTP/1.1\r\n")
    return s
socks = [open_one(i) for i in range(n)]
print("open", len(socks), flush=True)
end, reconnects, cut = time.time() + seconds, 0, 0
while time.time() < end:
    for i, s in enumerate(socks):
        try:
            s.send(b"X-Slow: 1\r\n")
        except OSError:
            cut += 1
            s.close()
            socks[i] = open_one(i)
            reconnects += 1
    time.sleep(3)
print("reconnects", reconnects, "cut", cut, flush=True)
PY
ATTACK_PID=${PIDS[-1]}
sleep 3
read -r U_RPS U_P50 U_P99 U_BAD < <(read_phase)
THREADS=$(ls /proc/"${PIDS[0]}"/task | wc -l)
RSS=$(awk '/VmRSS/ {print $2 " " $3}' /proc/"${PIDS[0]}"/status)
wait "$ATTACK_PID" 2>/dev/null || true

echo "== GET /v1/account, wrk -t2 -c64 -d${DUR}s, one node, 96 HTTP threads"
printf "%-26s %10s %8s %8s %6s\n" "phase" "req/s" "p50 ms" "p99 ms" "non2xx"
printf "%-26s %10s %8s %8s %6s\n" "no attack" "$B_RPS" "$B_P50" "$B_P99" "$B_BAD"
printf "%-26s %10s %8s %8s %6s\n" "$SLOW slow connections" "$U_RPS" "$U_P50" "$U_P99" "$U_BAD"
echo "ratio under attack: $(python3 -c "print(round($U_RPS / $B_RPS, 2))")"
echo "attack: $(tr '\n' ' ' < "$WORK/attack.txt")"
echo "node at the end of the attack: $THREADS threads, RSS $RSS"
