#!/usr/bin/env bash
# Provider login rate with a cached JWKS (issue "Every way in, part 2": target ≥ 2,000/s).
# A fake OIDC issuer's keys and tokens come from tests/support/oidc_tokens.py
# (python3-jwt, python3-cryptography); its JWKS is served by python3's http.server on
# loopback. wrk posts the same valid Google ID token over and over: each request is a full
# login (JWT signature check against the cached key, index lookup, a new session written).
# For scale, the same run measures device logins of existing devices and the bare
# cpp-httplib floor.
#   bench/providers.sh [seconds=10] [connections=16]
set -euo pipefail
cd "$(dirname "$0")/.."
DUR="${1:-10}"; CONN="${2:-16}"
source bench/lib.sh

FP=$(free_port)
"$BUILD/floor_server" "$FP" 96 & PIDS+=($!)
FLOOR_PID=${PIDS[-1]}
wait_http "$FP" /
read -r F_RPS _ _ _ F_CPU < <(run_wrk floor "http://127.0.0.1:$FP/" "" "$FLOOR_PID")
kill "$FLOOR_PID"

mkdir -p "$WORK/issuer"
/usr/bin/python3 tests/support/oidc_tokens.py keys "$WORK/issuer"
IP=$(free_port)
(cd "$WORK/issuer" && exec /usr/bin/python3 -m http.server "$IP" --bind 127.0.0.1) > "$WORK/issuer.log" 2>&1 & PIDS+=($!)
wait_http "$IP" /
# 64 players, one token each (one player's logins would queue on its one actor).
/usr/bin/python3 - "$WORK" <<'PY'
import json, sys; sys.path.insert(0, "tests/support"); import oidc_tokens
work = sys.argv[1]
tokens = [oidc_tokens.mint(f"{work}/issuer", "rsa", "rsa-1", json.dumps(
    {"iss": "https://accounts.bench", "aud": "bench-client", "sub": f"bench-{i}", "iat": "now", "exp": "now+3600"}))
    for i in range(64)]
with open(f"{work}/tokens.txt", "w") as f:
    f.write("\n".join(tokens) + "\n")
with open(f"{work}/provider.lua", "w") as f:
    f.write("local bodies = {" + ",".join("'" + json.dumps({"token": t}) + "'" for t in tokens) + "}\n")
    f.write("local i = math.random(#bodies)\nfunction request()\n  i = i + 1\n"
            "  return wrk.format('POST', '/v1/sessions/provider/google', {['Content-Type'] = 'application/json'}, bodies[(i % #bodies) + 1])\nend\n")
PY

RP=$(free_port)
ROSTER_PROVIDERS_GOOGLE_CLIENT_IDS=bench-client ROSTER_PROVIDERS_GOOGLE_ISSUER=https://accounts.bench \
ROSTER_PROVIDERS_GOOGLE_JWKS_URL="http://127.0.0.1:$IP/jwks.json" ROSTER_HTTP_THREADS=96 \
  "$BUILD/roster" serve --http-listen "127.0.0.1:$RP" --data-dir "$WORK/data" --admin-key bench-admin-key-0123456789 \
  --log-level warn > "$WORK/roster.log" 2>&1 & PIDS+=($!)
ROSTER_PID=${PIDS[-1]}
wait_http "$RP" /healthz
while read -r t; do  # creates the 64 users; the first fetches the JWKS
  curl -sf -X POST -H 'Content-Type: application/json' -d "{\"token\":\"$t\"}" \
    "http://127.0.0.1:$RP/v1/sessions/provider/google" > /dev/null
done < "$WORK/tokens.txt"
python3 - "$RP" "$WORK" <<'PY'
import sys; sys.path.insert(0, "bench"); from client import *
port, work = sys.argv[1], sys.argv[2]
device_lua(f"{work}/device.lua", register_devices(port, 1000))
PY
# PERF_OUT=dir: a `perf record` of the node during the provider logins (self time by symbol
# in $PERF_OUT/report.txt), for the profile docs/performance.md quotes.
if [ -n "${PERF_OUT:-}" ]; then
  mkdir -p "$PERF_OUT"
  perf record -F 999 -p "$ROSTER_PID" -o "$PERF_OUT/perf.data" -- sleep "$((DUR - 2))" > /dev/null 2>&1 & PERF_PID=$!
fi
read -r P_RPS P_P50 P_P99 P_BAD P_CPU < <(run_wrk provider "http://127.0.0.1:$RP/v1/sessions/provider/google" "$WORK/provider.lua" "$ROSTER_PID")
read -r D_RPS D_P50 D_P99 D_BAD D_CPU < <(run_wrk device "http://127.0.0.1:$RP/v1/sessions/device" "$WORK/device.lua" "$ROSTER_PID")
if [ -n "${PERF_OUT:-}" ]; then
  wait "$PERF_PID" || true
  perf report -i "$PERF_OUT/perf.data" --no-children --sort dso,symbol --stdio 2>/dev/null | head -60 > "$PERF_OUT/report.txt"
fi
FETCHES=$(grep -c "GET /jwks.json" "$WORK/issuer.log" || true)  # by Roster: the readiness probe asked for /

echo "== provider logins: $(nproc) cores, wrk -t2 -c$CONN -d${DUR}s"
printf "%-32s %10s %9s %9s %8s %10s\n" "" "req/s" "p50 ms" "p99 ms" "non-2xx" "CPU µs/req"
printf "%-32s %10s %9s %9s %8s %10s\n" "floor (GET /)" "$F_RPS" "-" "-" "-" "$F_CPU"
printf "%-32s %10s %9s %9s %8s %10s\n" "provider login (google, cached)" "$P_RPS" "$P_P50" "$P_P99" "$P_BAD" "$P_CPU"
printf "%-32s %10s %9s %9s %8s %10s\n" "device login (existing)" "$D_RPS" "$D_P50" "$D_P99" "$D_BAD" "$D_CPU"
echo "JWKS fetched $FETCHES time(s) in the whole run (target: once)"
python3 -c "print(f'provider login: {float($P_RPS):.0f}/s (target >= 2000/s), {float($P_RPS)/float($F_RPS):.2f} of the floor, {float($P_RPS)/float($D_RPS):.2f} of device login')"
