#!/usr/bin/env bash
# Friends-list bench (issue 12): one Roster node and the bare cpp-httplib floor
# server on loopback. MAIN users (default 8) each get FRIENDS friends (default
# 1,000: the same FRIENDS guests invite every main user, who accepts), then
#   1. floor: GET / on the floor server
#   2. GET /v1/friends (default page of 50) by the main users in turn
#   3. GET /v1/friends?limit=200 (the largest page)
#   4. floor again (the machine's speed drifts: the ratio uses the mean)
# Target: the list >= 0.3 of the floor. Every load is bounded in time (four
# wrk runs of DURATION seconds).
# Usage: bench/social.sh [duration-seconds=5] [friends=1000] [main-users=8]
set -euo pipefail
cd "$(dirname "$0")/.."
DUR="${1:-5}"; FRIENDS="${2:-1000}"; MAIN="${3:-8}"; CONN=64; THREADS=96
WORK_PREFIX=roster-bench-social
source bench/lib.sh

echo "== Roster friends-list bench: $(nproc) cores, wrk -t2 -c$CONN -d${DUR}s, $MAIN users with $FRIENDS friends each"
FP=$(free_port)
"$BUILD/floor_server" "$FP" "$THREADS" & PIDS+=($!)
FLOOR_PID=${PIDS[-1]}
wait_http "$FP" /
RP=$(free_port)
ROSTER_HTTP_THREADS="$THREADS" ROSTER_SOCIAL_MAX_FRIENDS=$((FRIENDS + 10)) "$BUILD/roster" serve \
  --http-listen "127.0.0.1:$RP" --data-dir "$WORK/data" --admin-key "bench-admin-key-0123456789" --log-level warn \
  > "$WORK/roster.log" 2>&1 & PIDS+=($!)
ROSTER_PID=${PIDS[-1]}
wait_http "$RP" /healthz

python3 - "$RP" "$WORK" "$FRIENDS" "$MAIN" <<'PY'
import sys, time
sys.path.insert(0, "bench")
from client import *
from client import _parallel
port, work, friends, main = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
t0 = time.time()
def guest(_):
    r = call(port, "/v1/sessions/anonymous", {})
    return r["user"]["id"], r["session"]["token"]
mains = _parallel(guest, main)
others = _parallel(guest, friends)
for mid, _ in mains:
    _parallel(lambda i: call(port, f"/v1/friends/{mid}", {}, token=others[i][1]), friends)
for mid, mt in mains:
    _parallel(lambda i: call(port, f"/v1/friends/{others[i][0]}", {}, token=mt), friends)
n = len(call(port, "/v1/friends?limit=200&state=friend", token=mains[0][1])["items"])
print(f"set-up: {main} x {friends} friends in {time.time() - t0:.1f} s (first page of 200: {n} friends)")
for name, q in (("list50", ""), ("list200", "?limit=200")):
    with open(f"{work}/{name}.lua", "w") as f:
        f.write("local tokens = {" + ",".join(f'"{t}"' for _, t in mains) + "}\n")
        f.write("local reqs, i = {}, 0\nfunction init(args)\n  for k, t in ipairs(tokens) do\n"
                f"    reqs[k] = wrk.format('GET', '/v1/friends{q}', {{['Authorization'] = 'Bearer ' .. t}})\n  end\nend\n"
                "function request()\n  i = i + 1\n  return reqs[(i % #reqs) + 1]\nend\n")
PY

read -r F1_RPS F_P50 F_P99 F_BAD F_CPU < <(run_wrk floor "http://127.0.0.1:$FP/" "" "$FLOOR_PID")
read -r L_RPS L_P50 L_P99 L_BAD L_CPU < <(run_wrk list50 "http://127.0.0.1:$RP/v1/friends" "$WORK/list50.lua" "$ROSTER_PID")
read -r M_RPS M_P50 M_P99 M_BAD M_CPU < <(run_wrk list200 "http://127.0.0.1:$RP/v1/friends" "$WORK/list200.lua" "$ROSTER_PID")
read -r F2_RPS _ _ _ _ < <(run_wrk floor2 "http://127.0.0.1:$FP/" "" "$FLOOR_PID")

python3 - <<PY
f = ($F1_RPS + $F2_RPS) / 2
print()
print("| target | req/s | p50 ms | p99 ms | non-2xx | server CPU µs/req | ratio |")
print("|---|---|---|---|---|---|---|")
print(f"| floor: bare cpp-httplib, 2-byte body (mean of {$F1_RPS:,.0f} and {$F2_RPS:,.0f}) | {f:,.0f} | $F_P50 | $F_P99 | $F_BAD | $F_CPU | 1.00 |")
print(f"| GET /v1/friends, 50 of $FRIENDS friends | {$L_RPS:,.0f} | $L_P50 | $L_P99 | $L_BAD | $L_CPU | {$L_RPS/f:.2f} of floor (target >= 0.30) |")
print(f"| GET /v1/friends?limit=200, 200 of $FRIENDS friends | {$M_RPS:,.0f} | $M_P50 | $M_P99 | $M_BAD | $M_CPU | {$M_RPS/f:.2f} of floor |")
PY
