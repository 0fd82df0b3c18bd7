#!/usr/bin/env bash
# Roster benchmark: one run, same machine, same wrk settings for every target.
#   1. floor: bare cpp-httplib server answering a 2-byte body (bench/floor_server.cc)
#   2. GET /v1/account with valid sessions (64 users, one token per connection)
#   3. POST /v1/sessions/password (Argon2id with the default parameters)
# Prints requests/s, p50, p99 and the ratios to the floor and to the Argon2id
# floor (cores ÷ one hash time). Everything listens on 127.0.0.1 only and every
# load is bounded in time.
# Usage: bench/run.sh [duration-seconds=10] [connections=64] [threads=96]
set -euo pipefail
cd "$(dirname "$0")/.."
DUR="${1:-10}"; CONN="${2:-64}"; THREADS="${3:-96}"
source bench/lib.sh

run_wrk() { # name url [lua]
  local out="$WORK/$1.txt"
  if [ -n "${3:-}" ]; then wrk -t2 -c"$CONN" -d"${DUR}s" --latency -s "$3" "$2" > "$out"
  else wrk -t2 -c"$CONN" -d"${DUR}s" --latency "$2" > "$out"; fi
  parse < "$out"
}

echo "== Roster bench: $(nproc) cores, wrk -t2 -c$CONN -d${DUR}s, $THREADS HTTP threads for every server"

# 1. floor (measured before and after Roster; the table uses the mean, since
# this machine's speed drifts by tens of percent from minute to minute)
FP=$(free_port)
"$BUILD/floor_server" "$FP" "$THREADS" & PIDS+=($!)
FLOOR_PID=${PIDS[-1]}
wait_http "$FP" /
read -r F1_RPS F_P50 F_P99 F_BAD < <(run_wrk floor "http://127.0.0.1:$FP/")

# 2. Roster
RP=$(free_port)
KEY="bench-admin-key-0123456789"
# Password checks in flight count against the failed-login limit per client
# address (domain/throttle.h), and every wrk connection comes from 127.0.0.1:
# raise the limit so the login phase measures hashing, not the throttle.
ROSTER_AUTH_MAX_FAILED_LOGINS=1000 ROSTER_HTTP_THREADS="$THREADS" "$BUILD/roster" serve --http-listen "127.0.0.1:$RP" --data-dir "$WORK/data" \
  --admin-key "$KEY" --log-level warn > "$WORK/roster.log" 2>&1 & PIDS+=($!)
wait_http "$RP" /healthz
ROSTER_PID=${PIDS[-1]}

python3 - "$RP" "$WORK" <<'PY'
import json, sys; sys.path.insert(0, "bench"); from client import *
port, work = sys.argv[1], sys.argv[2]
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
PY

read -r A_RPS A_P50 A_P99 A_BAD < <(run_wrk account "http://127.0.0.1:$RP/v1/account" "$WORK/account.lua")
LCONN=$(( $(nproc) * 4 ))
read -r L_RPS L_P50 L_P99 L_BAD < <(CONN=$LCONN run_wrk login "http://127.0.0.1:$RP/v1/sessions/password" "$WORK/login.lua")
RSS_KB=$(awk '/VmRSS/ {print $2}' /proc/$ROSTER_PID/status)
kill "$ROSTER_PID"
read -r F2_RPS _ _ _ < <(run_wrk floor2 "http://127.0.0.1:$FP/")
F_RPS=$(python3 -c "print(($F1_RPS + $F2_RPS) / 2)")

read -r HASH_MS ARGON_PAR < <("$BUILD/argon2_floor" 20 "$(nproc)")
ARGON_FLOOR=$(python3 -c "print(round($(nproc) * 1000 / $HASH_MS, 1))")

python3 - <<PY
f, a, l, af = $F_RPS, $A_RPS, $L_RPS, $ARGON_FLOOR
print()
print(f"| target | req/s | p50 ms | p99 ms | non-2xx | ratio |")
print(f"|---|---|---|---|---|---|")
print(f"| floor: bare cpp-httplib, 2-byte body (mean of {$F1_RPS:,.0f} before, {$F2_RPS:,.0f} after) | {f:,.0f} | $F_P50 | $F_P99 | $F_BAD | 1.00 |")
print(f"| GET /v1/account (valid session) | {a:,.0f} | $A_P50 | $A_P99 | $A_BAD | {a/f:.2f} of floor (target >= 0.50) |")
print(f"| POST /v1/sessions/password (-c$LCONN) | {l:,.1f} | $L_P50 | $L_P99 | $L_BAD | {l/af:.2f} of Argon2id floor {af} (target >= 0.85) |")
print()
print(f"Argon2id (m=19456 KiB, t=2, p=1): $HASH_MS ms per hash on one thread; floor = $(nproc) cores / hash = {af}/s")
print(f"Argon2id measured with $(nproc) threads hashing at once: $ARGON_PAR/s; login reaches {l/$ARGON_PAR:.2f} of that")
print(f"Roster RSS after the run: {$RSS_KB/1024:.0f} MiB")
PY
