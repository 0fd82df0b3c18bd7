# Shared by the bench scripts (run.sh, cluster.sh, profile.sh, count_messages.sh):
# set-up, a work dir cleaned on exit, and helpers. Source it from the repository root with WORK_PREFIX set.
set -euo pipefail
BUILD="${BUILD:-build}"
[ -x "$BUILD/roster" ] || bash scripts/build "$BUILD"
command -v wrk >/dev/null || bash scripts/deps
# The benches create users by the thousand from one address: lift the
# per-address budgets of [limits] (0 = no limit).
export ROSTER_LIMITS_REGISTRATIONS_PER_MINUTE=0 ROSTER_LIMITS_DEVICE_LOGINS_PER_MINUTE=0 \
  ROSTER_LIMITS_ANONYMOUS_LOGINS_PER_MINUTE=0 ROSTER_LIMITS_USERNAME_LOOKUPS_PER_MINUTE=0
WORK="$(mktemp -d "/tmp/${WORK_PREFIX:-roster-bench}-XXXXXX")"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_http() { for _ in $(seq 300); do curl -sf "http://127.0.0.1:$1$2" >/dev/null && return 0; sleep 0.1; done; echo "server on $1 did not start" >&2; exit 1; }

# wrk --latency output → "rps p50_ms p99_ms non2xx"
parse() {
  awk '
    function ms(v) { if (v ~ /us$/) { sub(/us$/,"",v); return v/1000 } if (v ~ /ms$/) { sub(/ms$/,"",v); return v+0 } if (v ~ /s$/) { sub(/s$/,"",v); return v*1000 } return v }
    /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) } /^Requests\/sec:/ { rps = $2 }
    /Non-2xx or 3xx responses:/ { bad = $5 }
    END { printf "%s %.3f %.3f %s\n", rps, p50, p99, (bad == "" ? 0 : bad) }'
}

# CPU time (user + system) a process has used so far, in clock ticks.
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
# wrk output → the number of requests it completed
requests_of() { awk '/ requests in / {print $1}' "$1"; }

# wrk against one server for $DUR seconds with $CONN connections, and that server's CPU per
# request: run_wrk name url lua-script-or-empty pid → "rps p50 p99 non2xx cpu_us_per_request"
TCK=$(getconf CLK_TCK)
run_wrk() {
  local out="$WORK/$1.txt" t0 t1
  t0=$(cpu_ticks "$4")
  if [ -n "$3" ]; then wrk -t2 -c"$CONN" -d"${DUR}s" --latency -s "$3" "$2" > "$out"
  else wrk -t2 -c"$CONN" -d"${DUR}s" --latency "$2" > "$out"; fi
  t1=$(cpu_ticks "$4")
  echo "$(parse < "$out") $(python3 -c "print(round(($t1 - $t0) * 1e6 / $TCK / max(1, $(requests_of "$out"))))")"
}
