#!/usr/bin/env bash
# JWT bench (issue 11 item 5): one Roster node on loopback, 64 guest sessions.
#   1. GET /v1/account with the session tokens (the baseline read)
#   2. GET /v1/account with JWTs of the same sessions (Bearer JWT)
#   3. POST /v1/sessions/jwt with the session tokens (minting; target >= 5,000/s)
#   4. both reads again, session then JWT (the machine's speed drifts: each read is
#      measured twice, interleaved, and the ratio uses the means)
# Also prints OpenSSL's own Ed25519 sign/verify rates on one core for scale.
# Every load is bounded in time (five wrk runs of DURATION seconds).
# Usage: bench/jwt.sh [duration-seconds=10] [connections=64] [threads=96]
set -euo pipefail
cd "$(dirname "$0")/.."
DUR="${1:-10}"; CONN="${2:-64}"; THREADS="${3:-96}"
WORK_PREFIX=roster-bench-jwt
source bench/lib.sh
TCK=$(getconf CLK_TCK)

run_wrk() { # name url lua pid → "rps p50 p99 non2xx cpu_us_per_request"
  local out="$WORK/$1.txt" t0 t1
  t0=$(cpu_ticks "$4")
  wrk -t2 -c"$CONN" -d"${DUR}s" --latency -s "$3" "$2" > "$out"
  t1=$(cpu_ticks "$4")
  echo "$(parse < "$out") $(python3 -c "print(round(($t1 - $t0) * 1e6 / $TCK / max(1, $(requests_of "$out"))))")"
}

echo "== Roster JWT bench: $(nproc) cores, wrk -t2 -c$CONN -d${DUR}s, $THREADS HTTP threads"
RP=$(free_port)
ROSTER_HTTP_THREADS="$THREADS" "$BUILD/roster" serve --http-listen "127.0.0.1:$RP" --data-dir "$WORK/data" \
  --admin-key "bench-admin-key-0123456789" --log-level warn > "$WORK/roster.log" 2>&1 & PIDS+=($!)
wait_http "$RP" /healthz
ROSTER_PID=${PIDS[-1]}

python3 - "$RP" "$WORK" <<'PY'
import sys; sys.path.insert(0, "bench"); from client import *
port, work = sys.argv[1], sys.argv[2]
tokens = [call(port, "/v1/sessions/anonymous", {})["session"]["token"] for _ in range(64)]
jwts = [call(port, "/v1/sessions/jwt", {}, token=t)["token"] for t in tokens]
account_lua(f"{work}/session.lua", tokens)
account_lua(f"{work}/jwt.lua", jwts)
with open(f"{work}/mint.lua", "w") as f:
    f.write("local tokens = {" + ",".join(f'"{t}"' for t in tokens) + "}\n")
    f.write("local i = 0\nfunction request()\n  i = i + 1\n"
            "  return wrk.format('POST', '/v1/sessions/jwt', {['Authorization'] = 'Bearer ' .. tokens[(i % #tokens) + 1]})\nend\n")
PY

URL="http://127.0.0.1:$RP"
read -r S_RPS S_P50 S_P99 S_BAD S_CPU < <(run_wrk session "$URL/v1/account" "$WORK/session.lua" "$ROSTER_PID")
read -r J_RPS J_P50 J_P99 J_BAD J_CPU < <(run_wrk jwt "$URL/v1/account" "$WORK/jwt.lua" "$ROSTER_PID")
read -r M_RPS M_P50 M_P99 M_BAD M_CPU < <(run_wrk mint "$URL/v1/sessions/jwt" "$WORK/mint.lua" "$ROSTER_PID")
read -r S2_RPS _ _ S2_BAD S2_CPU < <(run_wrk session2 "$URL/v1/account" "$WORK/session.lua" "$ROSTER_PID")
read -r J2_RPS _ _ J2_BAD J2_CPU < <(run_wrk jwt2 "$URL/v1/account" "$WORK/jwt.lua" "$ROSTER_PID")
kill "$ROSTER_PID"
SIGN=$(openssl speed -seconds 2 ed25519 2>/dev/null | awk '/253 bits EdDSA \(Ed25519\)/ {print $(NF-1), $NF}')

python3 - <<PY
s1, s2, j1, j2, m = $S_RPS, $S2_RPS, $J_RPS, $J2_RPS, $M_RPS
s, j = (s1 + s2) / 2, (j1 + j2) / 2
print()
print("| target | req/s | p50 ms | p99 ms | non-2xx | server CPU µs/req | ratio |")
print("|---|---|---|---|---|---|---|")
print(f"| GET /v1/account, session token (mean of {s1:,.0f} before, {s2:,.0f} after) | {s:,.0f} | $S_P50 | $S_P99 | $S_BAD / $S2_BAD | $S_CPU / $S2_CPU | 1.00 |")
print(f"| GET /v1/account, Bearer JWT, same 64 sessions (mean of {j1:,.0f} and {j2:,.0f}) | {j:,.0f} | $J_P50 | $J_P99 | $J_BAD / $J2_BAD | $J_CPU / $J2_CPU | {j/s:.2f} of the session read (target >= 1.00) |")
print(f"| POST /v1/sessions/jwt (mint, 64 sessions) | {m:,.0f} | $M_P50 | $M_P99 | $M_BAD | $M_CPU | {m/5000:.2f} of the 5,000/s target |")
print()
print("OpenSSL Ed25519 on one core (sign/s verify/s): $SIGN")
PY
