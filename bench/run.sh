#!/usr/bin/env bash
# Roster benchmark: one run, same machine, same wrk settings for every target.
#   1. floor: bare cpp-httplib server answering a 2-byte body (bench/floor_server.cc)
#   2. GET /v1/account with valid sessions (64 users, one token per request in turn)
#   3. POST /v1/sessions/password (Argon2id with the default parameters)
#   4. PATCH /v1/account: profile writes of USERS guest users, the display name
#      alternating, so every request writes the record and a security-log entry
#   5. POST /v1/sessions/device: logins of USERS devices registered beforehand
#      (the existing-device path: index lookup, new session, reply)
# Prints requests/s, p50, p99, the server's CPU time per request and the ratios
# to the floor (the mean of a floor run before and one after Roster) and to the
# Argon2id floor (cores ÷ one hash time). Everything listens on 127.0.0.1 only
# and every load is bounded in time (six wrk runs of DURATION seconds).
# Usage: bench/run.sh [duration-seconds=10] [connections=64] [threads=96] [users=1000]
set -euo pipefail
cd "$(dirname "$0")/.."
DUR="${1:-10}"; CONN="${2:-64}"; THREADS="${3:-96}"; USERS="${4:-1000}"
source bench/lib.sh

echo "== Roster bench: $(nproc) cores, wrk -t2 -c$CONN -d${DUR}s, $THREADS HTTP threads for every server, $USERS users for the writes"

# 1. floor (measured before and after Roster; the table uses the mean, since
# this machine's speed drifts by tens of percent from minute to minute)
FP=$(free_port)
"$BUILD/floor_server" "$FP" "$THREADS" & PIDS+=($!)
FLOOR_PID=${PIDS[-1]}
wait_http "$FP" /
read -r F1_RPS F_P50 F_P99 F_BAD F_CPU < <(run_wrk floor "http://127.0.0.1:$FP/" "" "$FLOOR_PID")

# 2. Roster
RP=$(free_port)
KEY="bench-admin-key-0123456789"
# Password checks in flight count against the failed-login limit per client
# address (domain/throttle.h), and every wrk connection comes from 127.0.0.1:
# raise the limit so the login phase measures hashing, not the throttle. The
# per-address budgets of [limits] (device logins among them) are lifted by
# bench/lib.sh.
ROSTER_AUTH_MAX_FAILED_LOGINS=1000 ROSTER_HTTP_THREADS="$THREADS" "$BUILD/roster" serve --http-listen "127.0.0.1:$RP" --data-dir "$WORK/data" \
  --admin-key "$KEY" --log-level warn > "$WORK/roster.log" 2>&1 & PIDS+=($!)
wait_http "$RP" /healthz
ROSTER_PID=${PIDS[-1]}

python3 - "$RP" "$WORK" "$USERS" <<'PY'
import json, sys; sys.path.insert(0, "bench"); from client import *
port, work, users = sys.argv[1], sys.argv[2], int(sys.argv[3])
tokens = [call(port, "/v1/sessions/anonymous", {})["session"]["token"] for _ in range(64)]
logins = []
for i in range(64):
    call(port, "/v1/accounts", {"username": f"bench_{i}", "password": f"bench-password-{i}"})
    logins.append({"login": f"bench_{i}", "password": f"bench-password-{i}"})
account_lua(f"{work}/account.lua", tokens)
with open(f"{work}/login.lua", "w") as f:
    f.write("local bodies = {" + ",".join("'" + json.dumps(b) + "'" for b in logins) + "}\n")
    f.write("local i = 0\nfunction request()\n  i = i + 1\n"
            "  return wrk.format('POST', '/v1/sessions/password', {['Content-Type'] = 'application/json'}, bodies[(i % #bodies) + 1])\nend\n")
patch_lua(f"{work}/patch.lua", guest_tokens(port, users))
device_lua(f"{work}/device.lua", register_devices(port, users))
PY

read -r A_RPS A_P50 A_P99 A_BAD A_CPU < <(run_wrk account "http://127.0.0.1:$RP/v1/account" "$WORK/account.lua" "$ROSTER_PID")
LCONN=$(( $(nproc) * 4 ))
read -r L_RPS L_P50 L_P99 L_BAD L_CPU < <(CONN=$LCONN run_wrk login "http://127.0.0.1:$RP/v1/sessions/password" "$WORK/login.lua" "$ROSTER_PID")
read -r W_RPS W_P50 W_P99 W_BAD W_CPU < <(run_wrk patch "http://127.0.0.1:$RP/v1/account" "$WORK/patch.lua" "$ROSTER_PID")
read -r D_RPS D_P50 D_P99 D_BAD D_CPU < <(run_wrk device "http://127.0.0.1:$RP/v1/sessions/device" "$WORK/device.lua" "$ROSTER_PID")
RSS_KB=$(awk '/VmRSS/ {print $2}' /proc/$ROSTER_PID/status)
kill "$ROSTER_PID"
read -r F2_RPS _ _ _ F2_CPU < <(run_wrk floor2 "http://127.0.0.1:$FP/" "" "$FLOOR_PID")
F_RPS=$(python3 -c "print(($F1_RPS + $F2_RPS) / 2)")

read -r HASH_MS ARGON_PAR < <("$BUILD/argon2_floor" 20 "$(nproc)")
ARGON_FLOOR=$(python3 -c "print(round($(nproc) * 1000 / $HASH_MS, 1))")

python3 - <<PY
f, a, l, w, d, af = $F_RPS, $A_RPS, $L_RPS, $W_RPS, $D_RPS, $ARGON_FLOOR
print()
print(f"| target | req/s | p50 ms | p99 ms | non-2xx | server CPU µs/req | ratio |")
print(f"|---|---|---|---|---|---|---|")
print(f"| floor: bare cpp-httplib, 2-byte body (mean of {$F1_RPS:,.0f} before, {$F2_RPS:,.0f} after) | {f:,.0f} | $F_P50 | $F_P99 | $F_BAD | $F_CPU / $F2_CPU | 1.00 |")
print(f"| GET /v1/account (valid session, 64 users) | {a:,.0f} | $A_P50 | $A_P99 | $A_BAD | $A_CPU | {a/f:.2f} of floor (target >= 0.50) |")
print(f"| POST /v1/sessions/password (-c$LCONN) | {l:,.1f} | $L_P50 | $L_P99 | $L_BAD | $L_CPU | {l/af:.2f} of Argon2id floor {af} (target >= 0.85) |")
print(f"| PATCH /v1/account (display name, $USERS users) | {w:,.0f} | $W_P50 | $W_P99 | $W_BAD | $W_CPU | {w/f:.2f} of floor (target >= 0.33) |")
print(f"| POST /v1/sessions/device (existing device, $USERS devices) | {d:,.0f} | $D_P50 | $D_P99 | $D_BAD | $D_CPU | {d/f:.2f} of floor (target >= 0.25) |")
print()
print(f"Argon2id (m=19456 KiB, t=2, p=1): $HASH_MS ms per hash on one thread; floor = $(nproc) cores / hash = {af}/s")
print(f"Argon2id measured with $(nproc) threads hashing at once: $ARGON_PAR/s; login reaches {l/$ARGON_PAR:.2f} of that")
print(f"Roster RSS after the run: {$RSS_KB/1024:.0f} MiB")
print(f"server CPU µs/req: user + system time of the server process over the wrk run ÷ requests completed (wrk's own CPU not included)")
PY
