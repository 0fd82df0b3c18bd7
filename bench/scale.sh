#!/usr/bin/env bash
# SPEC §7 capacity figures on one node:
#   1. registers USERS device users (wrk, 2 threads, 64 connections; actors passivate
#      after 5 s so that registration does not also keep a million actors alive);
#   2. stops the node and starts it again on the same data dir: time to /readyz and RSS
#      when idle (targets: <= 2 s, <= 1 GiB with 1,000,000 users);
#   3. logs LIVE of those users in again (idle passivation 60 min) so that LIVE user
#      actors are alive at once: RSS (target: 100,000 live actors <= 500 MiB).
#      With a third argument `read`, each of those logins is followed by one
#      GET /v1/account with the new token (a client's usual first call), so that each
#      live actor also publishes its answer in the read cache; RSS is then reported
#      right after and again 25 s later, when the quiet actors have taken their
#      expired answers back.
# Everything listens on 127.0.0.1; every wrk run is bounded in time and count.
# Usage: bench/scale.sh [users=1000000] [live=100000] [login|read]
set -euo pipefail
cd "$(dirname "$0")/.."
USERS="${1:-1000000}"; LIVE="${2:-100000}"; MODE="${3:-login}"
case "$MODE" in login) LIVE_LUA=bench/scale_devices.lua ;; read) LIVE_LUA=bench/scale_reads.lua ;;
  *) echo "third argument: login or read" >&2; exit 2 ;; esac
WORK_PREFIX=roster-scale source bench/lib.sh
KEY="bench-admin-key-0123456789"
PORT=$(free_port)
URL="http://127.0.0.1:$PORT"
ROSTER_PID=""

rss_mib() { awk '/^VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$ROSTER_PID/status"; }
start_node() { # idle-passivation
  local t0; t0=$(date +%s%N)
  ROSTER_HTTP_THREADS=96 ROSTER_ACTORS_IDLE_PASSIVATION="$1" "$BUILD/roster" serve --http-listen "127.0.0.1:$PORT" \
    --data-dir "$WORK/data" --admin-key "$KEY" --log-level warn >> "$WORK/roster.log" 2>&1 & ROSTER_PID=$!
  PIDS+=("$ROSTER_PID")
  for _ in $(seq 600); do curl -sf "$URL/readyz" >/dev/null && break; sleep 0.01; done
  START_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
}
stop_node() { kill "$ROSTER_PID"; wait "$ROSTER_PID" 2>/dev/null || true; }
users_stored() { curl -sf -H "X-Admin-Key: $KEY" "$URL/v1/admin/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["users"])'; }
live_actors() { curl -sf -H "X-Admin-Key: $KEY" "$URL/debug/actors" | python3 -c 'import json,sys; print(json.load(sys.stdin)["user_actors"])'; }
cache_entries() { curl -sf -H "X-Admin-Key: $KEY" "$URL/debug/actors" | python3 -c 'import json,sys; print(sum(n.get("read_cache_entries", 0) for n in json.load(sys.stdin)["nodes"]))'; }

# Runs 10 s chunks of device logins for ids [start, limit) per thread until both
# threads reach their limit. Sets CREATED.
devices() { # prefix limit0 limit1 [wrk script]
  local n0=0 n1=0 out; CREATED=0
  for _ in $(seq 2000); do
    out=$(wrk -t2 -c64 -d10s -s "${4:-bench/scale_devices.lua}" "$URL" -- "$1" "$n0" "$n1" "$2" "$3" | awk '/^created/')
    CREATED=$(( CREATED + $(echo "$out" | awk '{ print $2 }') ))
    n0=$(echo "$out" | awk '{ print $4 }'); n1=$(echo "$out" | awk '{ print $5 }')
    [ "$n0" -ge "$2" ] && [ "$n1" -ge "$3" ] && return 0
  done
}

echo "== Roster scale bench: $(nproc) cores, $USERS users, $LIVE live actors ($MODE)"
start_node 5s
t0=$(date +%s)
devices scale "$(( USERS / 2 ))" "$(( USERS - USERS / 2 ))"
REG_S=$(( $(date +%s) - t0 ))
sleep 8   # let the registration's actors passivate
REG_CREATED=$(users_stored)
REG_RSS=$(rss_mib)
stop_node
DISK=$(du -sm "$WORK/data" | awk '{ print $1 }')

start_node 60m
START1=$START_MS
sleep 2
IDLE_RSS=$(rss_mib)

t0=$(date +%s)
devices scale "$(( LIVE / 2 ))" "$(( LIVE - LIVE / 2 ))" "$LIVE_LUA"
LIVE_S=$(( $(date +%s) - t0 ))
LIVE_NOW=$(live_actors)
LIVE_RSS=$(rss_mib)
if [ "$MODE" = read ]; then
  ENTRIES=$(cache_entries)
  sleep 25
  LATER_ENTRIES=$(cache_entries)
  LATER_RSS=$(rss_mib)
fi
STORE_MEM=$(curl -sf "$URL/metrics" | awk -F'[{}" ]+' '/^roster_store\{figure="(memtable_bytes|block_cache_bytes)"/ { s += $NF } END { printf "%.0f", s / 1048576 }')
stop_node

echo
echo "| measurement | value | SPEC §7 target |"
echo "|---|---|---|"
echo "| users registered (device logins; counted by /v1/admin/stats) | $REG_CREATED in ${REG_S} s ($(( REG_CREATED / (REG_S > 0 ? REG_S : 1) ))/s) | — |"
echo "| data dir on disk | ${DISK} MiB | — |"
echo "| RSS after registering, actors passivated | ${REG_RSS} MiB | — |"
echo "| start on that data dir to /readyz | ${START1} ms | <= 2000 ms |"
echo "| RSS idle after that start | ${IDLE_RSS} MiB | <= 1024 MiB |"
echo "| live user actors after logging $LIVE users in again (${LIVE_S} s) | $LIVE_NOW | — |"
echo "| RSS with those actors live | ${LIVE_RSS} MiB | <= 500 MiB |"
echo "| of which RocksDB memtables + block cache | ${STORE_MEM} MiB | — |"
if [ "$MODE" = read ]; then
  echo "| read-cache answers published then | $ENTRIES | — |"
  echo "| 25 s later: answers left, RSS | $LATER_ENTRIES, ${LATER_RSS} MiB | <= 500 MiB |"
fi
