#!/usr/bin/env bash
# Profiles one Roster load (for docs/performance.md's "where the time goes"):
# starts a node, prepares USERS users, then runs wrk -t2 -c64 against
# 127.0.0.1 twice, bounded in time: once under `perf stat` (context switches,
# migrations, task-clock → per request), once under `perf record` (call chains).
#   phase: device  POST /v1/sessions/device, USERS existing devices
#          patch   PATCH /v1/account, USERS guest users, display name alternating
#          account GET /v1/account, 64 guest users
# Output in OUT (default ./perf-<phase>): summary.txt (per request: context
# switches, CPU, by thread kind), stat.txt, perf.data, report-self.txt,
# report-children.txt, breakdown.txt (bench/perf_breakdown.py), wrk-*.txt.
# CALLGRAPH=dwarf (default: unwinds without frame pointers, which the Release
# build omits; about 120 MB for 10 s) or fp (perf record -g: small files, but
# call chains through Roster's and the libraries' code break off early).
# Usage: bench/profile.sh phase [seconds=10] [users=1000]
set -euo pipefail
cd "$(dirname "$0")/.."
PHASE="${1:?phase: device | patch | account}"; SECS="${2:-10}"; USERS="${3:-1000}"
OUT="$(realpath -m "${OUT:-perf-$PHASE}")"; CALLGRAPH="${CALLGRAPH:-dwarf}"; CONN=64
WORK_PREFIX=roster-profile source bench/lib.sh
command -v perf >/dev/null || { echo "perf is not installed (apt-get install linux-perf)" >&2; exit 1; }
mkdir -p "$OUT"

RP=$(free_port)
"$BUILD/roster" serve --http-listen "127.0.0.1:$RP" --data-dir "$WORK/data" --admin-key bench-admin-key-0123456789 \
  --log-level warn > "$WORK/roster.log" 2>&1 & PIDS+=($!)
ROSTER_PID=${PIDS[-1]}
wait_http "$RP" /healthz

python3 - "$RP" "$WORK" "$USERS" "$PHASE" <<'PY'
import sys; sys.path.insert(0, "bench"); from client import *
port, work, users, phase = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
if phase == "device": device_lua(f"{work}/load.lua", register_devices(port, users))
elif phase == "patch": patch_lua(f"{work}/load.lua", guest_tokens(port, users))
elif phase == "account": account_lua(f"{work}/load.lua", guest_tokens(port, 64))
else: raise SystemExit(f"unknown phase {phase}")
PY
case "$PHASE" in
  device) URL="http://127.0.0.1:$RP/v1/sessions/device" ;;
  *) URL="http://127.0.0.1:$RP/v1/account" ;;
esac

# wrk runs 2 s longer on each side of the measurement window.
load() { wrk -t2 -c"$CONN" -d"$((SECS + 4))s" --latency -s "$WORK/load.lua" "$URL" > "$OUT/wrk-$1.txt"; }

# Requests the node answered so far (its own counter, so the per-request
# figures count exactly the requests inside the perf stat window).
answered() { curl -s "http://127.0.0.1:$RP/metrics" | awk '/^roster_http_requests_total/ {s += $2} END {printf "%d", s}'; }

load stat & WRK=$!
sleep 2
N0=$(answered)
perf stat --per-thread -e context-switches,cpu-migrations,task-clock -p "$ROSTER_PID" -o "$OUT/stat.txt" -- sleep "$SECS"
N1=$(answered)
wait "$WRK"
load record & WRK=$!
sleep 2
perf record -F 999 --call-graph "$CALLGRAPH" -p "$ROSTER_PID" -o "$OUT/perf.data" -- sleep "$SECS" 2> "$OUT/record.log"
wait "$WRK"
kill "$ROSTER_PID"; wait "$ROSTER_PID" 2>/dev/null || true

perf report -i "$OUT/perf.data" --no-children --stdio 2>/dev/null > "$OUT/report-self.txt" || true
perf report -i "$OUT/perf.data" --children --stdio 2>/dev/null > "$OUT/report-children.txt" || true

# Per request, over the stat window, in total and per thread kind (CAF 0.17
# names its scheduler workers caf.multiplexer; the HTTP edge reader and
# workers keep the process name).
python3 - "$OUT" "$SECS" "$((N1 - N0))" <<'PY' | tee "$OUT/summary.txt"
import collections, re, sys
out, secs, reqs = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
per = collections.defaultdict(lambda: collections.Counter())
for line in open(f"{out}/stat.txt"):
    m = re.match(r"\s*(\S+)-(\d+)\s+([\d,.]+)\s+(?:msec\s+)?(context-switches|cpu-migrations|task-clock)", line)
    if m:
        per[m.group(1)][m.group(4)] += float(m.group(3).replace(",", ""))
wrk = open(f"{out}/wrk-stat.txt").read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", wrk).group(1))
p99 = re.search(r"^\s+99%\s+(\S+)", wrk, re.M).group(1)
total = sum(per.values(), collections.Counter())
print(f"{reqs / secs:,.0f} req/s answered during perf stat (wrk over its whole run: {rps:,.0f} req/s, p99 {p99});"
      f" per request: {total['context-switches'] / reqs:.2f} context "
      f"switches, {total['cpu-migrations'] / reqs:.3f} migrations, {total['task-clock'] * 1000 / reqs:.0f} µs CPU "
      f"({total['task-clock'] / 1000 / secs:.2f} cores)")
for comm, c in sorted(per.items(), key=lambda kv: -kv[1]["task-clock"]):
    print(f"  {comm:16} {c['context-switches'] / reqs:5.2f} switches/req  {c['task-clock'] * 1000 / reqs:5.0f} µs/req")
PY
perf script -i "$OUT/perf.data" -F comm,tid,ip,sym 2>/dev/null | python3 bench/perf_breakdown.py > "$OUT/breakdown.txt" || true
echo "reports in $OUT"
