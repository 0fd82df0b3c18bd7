#!/usr/bin/env bash
# Moderation-queue bench (issue 12): one Roster node and the bare cpp-httplib
# floor server on loopback. REPORTERS guests (default 1,000) file REPORTS
# reports in all (default 100,000, block: false) about TARGETS users (default
# 2,000; each reporter reports distinct users), then
#   1. floor: GET / on the floor server
#   2. GET /v1/admin/moderation/queue (first page of 50) by CONN moderators
#   3. GET /v1/admin/moderation/queue?page=20&page_size=200 (a deep page: the
#      first 4,000 entries in queue order are gathered and sorted)
# Target: p99 of the queue view <= 100 ms. The queue is read by a handful of
# moderators, not by every player: CONN defaults to 8. Every load is bounded
# in time (wrk runs of DURATION seconds) and in count (the set-up).
# Usage: bench/moderation.sh [duration-seconds=5] [reports=100000] [targets=2000] [reporters=1000]
set -euo pipefail
cd "$(dirname "$0")/.."
DUR="${1:-5}"; REPORTS="${2:-100000}"; TARGETS="${3:-2000}"; REPORTERS="${4:-1000}"; CONN="${CONN:-8}"; THREADS=96
WORK_PREFIX=roster-bench-moderation
source bench/lib.sh
KEY=bench-admin-key-0123456789

echo "== Roster moderation-queue bench: $(nproc) cores, wrk -t2 -c$CONN -d${DUR}s, $REPORTS reports about $TARGETS users by $REPORTERS reporters"
FP=$(free_port)
"$BUILD/floor_server" "$FP" "$THREADS" & PIDS+=($!)
FLOOR_PID=${PIDS[-1]}
wait_http "$FP" /
RP=$(free_port)
ROSTER_HTTP_THREADS="$THREADS" ROSTER_MODERATION_REPORTS_PER_MINUTE=0 "$BUILD/roster" serve \
  --http-listen "127.0.0.1:$RP" --data-dir "$WORK/data" --admin-key "$KEY" --log-level warn \
  > "$WORK/roster.log" 2>&1 & PIDS+=($!)
ROSTER_PID=${PIDS[-1]}
wait_http "$RP" /healthz

python3 - "$RP" "$WORK" "$REPORTS" "$TARGETS" "$REPORTERS" "$KEY" <<'PY'
import http.client, json, sys, threading, time
port, work, reports, targets, reporters, key = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:6]), sys.argv[6]
per = -(-reports // reporters)
assert per <= targets, "each reporter reports distinct users: reports / reporters <= targets"
local = threading.local()
def post(path, body, token=None):
    if not hasattr(local, "c"):
        local.c = http.client.HTTPConnection("127.0.0.1", int(port))
    h = {"Content-Type": "application/json"}
    if token:
        h["Authorization"] = "Bearer " + token
    local.c.request("POST", path, json.dumps(body), h)
    r = local.c.getresponse()
    data = r.read()
    if r.status >= 300:
        raise RuntimeError(f"{path}: {r.status} {data[:200]}")
    return json.loads(data)
def run(fn, n, workers=16):
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(fn, range(n)))
t0 = time.time()
guest = lambda _: (lambda r: (r["user"]["id"], r["session"]["token"]))(post("/v1/sessions/anonymous", {}))
who = run(guest, targets)
by = run(guest, reporters)
t1 = time.time()
stride = max(1, targets // per)
cats = ["cheating", "spam", "harassment", "name"]
def file(i):
    r, j = divmod(i, per)
    target = who[(r + j * stride) % targets][0]
    post("/v1/reports", {"user_id": target, "category": cats[(r + j) % 4], "reason": "bench", "block": False}, by[r][1])
run(file, reports)
t2 = time.time()
print(f"set-up: {targets + reporters} guests in {t1 - t0:.1f} s, {reports} reports in {t2 - t1:.1f} s ({reports / (t2 - t1):,.0f}/s)")
for name, q in (("page1", ""), ("deep", "?page=20&page_size=200")):
    with open(f"{work}/{name}.lua", "w") as f:
        f.write(f"wrk.headers['X-Admin-Key'] = '{key}'\nwrk.path = '/v1/admin/moderation/queue{q}'\n")
PY
Q=$(curl -sf -H "X-Admin-Key: $KEY" "http://127.0.0.1:$RP/v1/admin/moderation/queue?page_size=1")
echo "queue: $(python3 -c "import json,sys; q=json.loads(sys.argv[1]); print(q['total'], 'users pending; first', q['items'][0]['total'], 'reports, flagged', q['items'][0]['flagged'])" "$Q")"

read -r F1_RPS F_P50 F_P99 F_BAD F_CPU < <(run_wrk floor "http://127.0.0.1:$FP/" "" "$FLOOR_PID")
read -r Q_RPS Q_P50 Q_P99 Q_BAD Q_CPU < <(run_wrk page1 "http://127.0.0.1:$RP/v1/admin/moderation/queue" "$WORK/page1.lua" "$ROSTER_PID")
read -r D_RPS D_P50 D_P99 D_BAD D_CPU < <(run_wrk deep "http://127.0.0.1:$RP/v1/admin/moderation/queue?page=20&page_size=200" "$WORK/deep.lua" "$ROSTER_PID")

python3 - <<PY
print()
print("| target | req/s | p50 ms | p99 ms | non-2xx | server CPU µs/req | note |")
print("|---|---|---|---|---|---|---|")
print(f"| floor: bare cpp-httplib, 2-byte body | {$F1_RPS:,.0f} | $F_P50 | $F_P99 | $F_BAD | $F_CPU | |")
print(f"| GET /v1/admin/moderation/queue, page 1 of 50, $TARGETS users / $REPORTS reports | {$Q_RPS:,.0f} | $Q_P50 | $Q_P99 | $Q_BAD | $Q_CPU | p99 {'<=' if $Q_P99 <= 100 else '>'} 100 ms target; {$Q_RPS/$F1_RPS:.2f} of floor |")
print(f"| GET /v1/admin/moderation/queue?page=20&page_size=200 (first 4,000 gathered) | {$D_RPS:,.0f} | $D_P50 | $D_P99 | $D_BAD | $D_CPU | {$D_RPS/$F1_RPS:.2f} of floor |")
PY
