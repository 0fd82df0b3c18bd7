#!/usr/bin/env bash
# JWT bench (issue 11 item 5): one Roster node on loopback, 64 guest sessions.
#   1. GET /v1/account with the session tokens (the baseline read) and with JWTs of
#      the same sessions (Bearer JWT), in ROUNDS rounds (default 3) of session, JWT,
#      JWT, session: the machine's speed drifts by several per cent within a minute,
#      and this order weighs on both alike. The ratio is the median of the rounds'.
#   2. POST /v1/sessions/jwt with the session tokens (minting; target >= 5,000/s)
# Also prints OpenSSL's own Ed25519 sign/verify rates on one core for scale.
# Every load is bounded in time (4 x ROUNDS + 1 wrk runs of DURATION seconds).
# Usage: [ROUNDS=3] bench/jwt.sh [duration-seconds=5] [connections=64] [threads=96]
set -euo pipefail
cd "$(dirname "$0")/.."
DUR="${1:-5}"; CONN="${2:-64}"; THREADS="${3:-96}"; ROUNDS="${ROUNDS:-3}"
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
# ROUNDS rounds of session, JWT, JWT, session: a drift of the machine's speed
# weighs on both reads alike; the ratio is the median of the rounds' ratios.
READS=()
for r in $(seq "$ROUNDS"); do
  for kind in session jwt jwt session; do
    READS+=("$kind $(run_wrk "$kind-$r-${#READS[@]}" "$URL/v1/account" "$WORK/$kind.lua" "$ROSTER_PID")")
  done
done
read -r M_RPS M_P50 M_P99 M_BAD M_CPU < <(run_wrk mint "$URL/v1/sessions/jwt" "$WORK/mint.lua" "$ROSTER_PID")
kill "$ROSTER_PID"
SIGN=$(openssl speed -seconds 2 ed25519 2>/dev/null | awk '/253 bits EdDSA \(Ed25519\)/ {print $(NF-1), $NF}')

python3 - "${READS[@]}" <<PY
import statistics, sys
reads = [line.split() for line in sys.argv[1:]]  # kind rps p50 p99 non2xx cpu
def rows(kind): return [r for r in reads if r[0] == kind]
ratios = []
for i in range(0, len(reads), 4):
    round_ = reads[i:i + 4]
    s = sum(float(r[1]) for r in round_ if r[0] == "session")
    j = sum(float(r[1]) for r in round_ if r[0] == "jwt")
    ratios.append(j / s)
def line(kind, label, ratio):
    rs = rows(kind)
    rps = statistics.mean(float(r[1]) for r in rs)
    p50 = statistics.median(float(r[2]) for r in rs)
    p99 = statistics.median(float(r[3]) for r in rs)
    bad = sum(int(r[4]) for r in rs)
    cpu = statistics.mean(float(r[5]) for r in rs)
    each = ", ".join(f"{float(r[1]):,.0f}" for r in rs)
    print(f"| {label} (mean of {each}) | {rps:,.0f} | {p50:.3f} | {p99:.3f} | {bad} | {cpu:.1f} | {ratio} |")
m = $M_RPS
print()
print("| target | req/s | p50 ms | p99 ms | non-2xx | server CPU µs/req | ratio |")
print("|---|---|---|---|---|---|---|")
line("session", "GET /v1/account, session token", "1.00")
line("jwt", "GET /v1/account, Bearer JWT, same 64 sessions",
     f"{statistics.median(ratios):.2f} of the session read (median of the rounds: "
     + ", ".join(f"{x:.2f}" for x in ratios) + "; target >= 1.00)")
print(f"| POST /v1/sessions/jwt (mint, 64 sessions) | {m:,.0f} | $M_P50 | $M_P99 | $M_BAD | $M_CPU | {m/5000:.2f} of the 5,000/s target |")
print()
print("OpenSSL Ed25519 on one core (sign/s verify/s): $SIGN")
PY
