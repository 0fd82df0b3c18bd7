#!/usr/bin/env bash
# Counts, per request, the actor messages one load makes, with uprobes on
# CAF (root only; the probes count in this node only: perf stat -p):
#   scheduled_actor::enqueue   messages to event-based actors (user, index, host)
#   blocking_actor::enqueue    replies to the HTTP threads' waiting actors
#   set/cancel_request_timeout request timeouts set in / taken off CAF's clock
#   scoped_actor::scoped_actor new blocking actors (the router's pool)
# "Per request" is per call of the load's HTTP handler (a uprobe on Roster).
#   phase: device | patch | account (as bench/profile.sh)
# Usage: bench/count_messages.sh phase [users=1000]
set -euo pipefail
cd "$(dirname "$0")/.."
PHASE="${1:?phase: device | patch | account}"; USERS="${2:-1000}"
WORK_PREFIX=roster-count source bench/lib.sh
CAF=$(ldd "$BUILD/roster" | awk '/libcaf_core/ {print $3}')
BIN=$(realpath "$BUILD/roster")
addr() { # file mangled-name → its address, for perf probe (dynamic symbols first)
  { nm -D --defined-only "$1" 2>/dev/null; nm --defined-only "$1" 2>/dev/null; } |
    awk -v s="$2" '$3 == s && !found {print "0x" $1; found = 1}'
}
case "$PHASE" in
  device) HANDLER=_ZN6roster4http8handlers12login_deviceERNS0_7contextE; URL=/v1/sessions/device ;;
  patch) HANDLER=_ZN6roster4http8handlers13patch_accountERNS0_7contextE; URL=/v1/account ;;
  account) HANDLER=_ZN6roster4http8handlers11get_accountERNS0_7contextE; URL=/v1/account ;;
  *) echo "unknown phase $PHASE" >&2; exit 1 ;;
esac

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
else: account_lua(f"{work}/load.lua", guest_tokens(port, 64))
PY

trap 'perf probe -q -d "roster_count:*" 2>/dev/null || true; cleanup' EXIT
perf probe -q -x "$CAF" \
  -a "roster_count:to_actor=$(addr "$CAF" _ZN3caf15scheduled_actor7enqueueESt10unique_ptrINS_15mailbox_elementENS_6detail8disposerEEPNS_14execution_unitE)" \
  -a "roster_count:to_http_thread=$(addr "$CAF" _ZN3caf14blocking_actor7enqueueESt10unique_ptrINS_15mailbox_elementENS_6detail8disposerEEPNS_14execution_unitE)" \
  -a "roster_count:timeout_set=$(addr "$CAF" _ZN3caf6detail23thread_safe_actor_clock19set_request_timeoutENSt6chrono10time_pointINS2_3_V212steady_clockENS2_8durationIlSt5ratioILl1ELl1000000000EEEEEEPNS_14abstract_actorENS_10message_idE)" \
  -a "roster_count:timeout_cancelled=$(addr "$CAF" _ZN3caf6detail23thread_safe_actor_clock22cancel_request_timeoutEPNS_14abstract_actorENS_10message_idE)" \
  -a "roster_count:new_scoped_actor=$(addr "$CAF" _ZN3caf12scoped_actorC1ERNS_12actor_systemEb)"
perf probe -q -x "$BIN" -a "roster_count:handler=$(addr "$BIN" "$HANDLER")"

wrk -t2 -c64 -d9s -s "$WORK/load.lua" "http://127.0.0.1:$RP$URL" > "$WORK/wrk.txt" & WRK=$!
sleep 2
perf stat -e 'roster_count:*' -p "$ROSTER_PID" -o "$WORK/stat.txt" -- sleep 5
wait "$WRK"
N=$(awk '/roster_count:handler/ {gsub(",", "", $1); print $1}' "$WORK/stat.txt")
echo "$PHASE: $N handler calls in 5 s; per call:"
awk -v n="$N" '/roster_count:/ && !/handler/ {gsub(",", "", $1); printf "  %-32s %6.2f\n", $2, $1 / n}' "$WORK/stat.txt"
