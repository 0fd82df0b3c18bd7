#!/usr/bin/env bash
# Roster cluster bench, one run on this machine (everything on 127.0.0.1,
# every load bounded in time):
#   1. the cost of the extra hop: GET /v1/account through a node that does not
#      own the user vs through the owner (2 nodes, same wrk settings, same run);
#   2. the handoff of one partition of USERS (default 10,000) users: a node
#      with 2 partitions and 2×USERS users, a second node joins and takes one;
#      time and bytes as the source reports them.
#   3. a fourth node joining three under a read/write load (SPEC §7): wrk
#      through node-1 (reads and profile writes of 64 users), node-4 starts a
#      few seconds in; failed requests, partitions moved, every user readable.
# Usage: bench/cluster.sh [duration-seconds=10] [connections=64] [users=10000]
set -euo pipefail
cd "$(dirname "$0")/.."
DUR="${1:-10}"; CONN="${2:-64}"; USERS="${3:-10000}"
WORK_PREFIX=roster-cbench source bench/lib.sh
KEY="bench-admin-key-0123456789"
export ROSTER_CLUSTER_SECRET="bench-cluster-secret"
# Plaintext loopback links, as the cluster figures were first measured (the
# TLS figures are a separate run: docs/performance.md).
export ROSTER_CLUSTER_INSECURE="${ROSTER_CLUSTER_INSECURE:-true}"
start_node() { # name http-port cluster-port data partitions [seeds]
  local seeds=()
  [ -n "${6:-}" ] && seeds=(--seeds "$6")
  ROSTER_HTTP_THREADS=96 "$BUILD/roster" serve --node-name "$1" --http-listen "127.0.0.1:$2" \
    --cluster-listen "127.0.0.1:$3" --data-dir "$4" --partitions "$5" --admin-key "$KEY" "${seeds[@]}" \
    --log-level info > "$4.log" 2>&1 &
  PIDS+=($!)
  wait_http "$2" /healthz
}

echo "== Roster cluster bench: $(nproc) cores, wrk -t2 -c$CONN -d${DUR}s"

# 1. owner vs non-owner
H1=$(free_port); C1=$(free_port); H2=$(free_port); C2=$(free_port)
start_node node-1 "$H1" "$C1" "$WORK/n1" 64
start_node node-2 "$H2" "$C2" "$WORK/n2" 64 "127.0.0.1:$C1"
python3 - "$H1" "$WORK" "$KEY" <<'PY'
import sys; sys.path.insert(0, "bench"); from client import *
port, work, key = sys.argv[1], sys.argv[2], sys.argv[3]
settled(port, key, 2)
local, remote = [], []
while len(local) < 64 or len(remote) < 64:
    s = call(port, "/v1/sessions/anonymous", {})
    owner = call(port, f"/debug/users/{s['user']['id']}", key=key)["owner"]
    (local if owner == "node-1" else remote).append(s["session"]["token"])
account_lua(f"{work}/owner.lua", local[:64])
account_lua(f"{work}/nonowner.lua", remote[:64])
PY
wrk -t2 -c"$CONN" -d"${DUR}s" --latency -s "$WORK/owner.lua" "http://127.0.0.1:$H1/v1/account" > "$WORK/owner1.txt"
wrk -t2 -c"$CONN" -d"${DUR}s" --latency -s "$WORK/nonowner.lua" "http://127.0.0.1:$H1/v1/account" > "$WORK/nonowner.txt"
wrk -t2 -c"$CONN" -d"${DUR}s" --latency -s "$WORK/owner.lua" "http://127.0.0.1:$H1/v1/account" > "$WORK/owner2.txt"
read -r O1 O_P50 O_P99 O_BAD < <(parse < "$WORK/owner1.txt")
read -r N N_P50 N_P99 N_BAD < <(parse < "$WORK/nonowner.txt")
read -r O2 _ _ _ < <(parse < "$WORK/owner2.txt")
for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; PIDS=()

# 2. handoff of one partition of $USERS users
H1=$(free_port); C1=$(free_port); H2=$(free_port); C2=$(free_port)
start_node node-a "$H1" "$C1" "$WORK/a" 2
python3 - "$H1" "$USERS" <<'PY'
import http.client, json, sys, threading
port, users = int(sys.argv[1]), int(sys.argv[2])
def worker(n):
    c = http.client.HTTPConnection("127.0.0.1", port)
    for _ in range(n):
        c.request("POST", "/v1/sessions/anonymous", "{}", {"Content-Type": "application/json"})
        r = c.getresponse(); r.read()
        assert r.status == 201, r.status
threads = [threading.Thread(target=worker, args=(2 * users // 8,)) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
PY
T0=$(date +%s%N)
start_node node-b "$H2" "$C2" "$WORK/b" 2 "127.0.0.1:$C1"
python3 - "$H1" "$KEY" "$T0" "$USERS" > "$WORK/handoff.txt" <<PY
import sys, time; sys.path.insert(0, "bench"); from client import *
port, key, t0, users = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
v = settled(port, key, 2, need_recent=True)
total_ms = (time.time_ns() - t0) / 1e6
h = v["recent_handoffs"][-1]
o, n, o2 = $O1, $N, $O2
owner = (o + o2) / 2
print()
print("| measurement | value |")
print("|---|---|")
print(f"| GET /v1/account through the owner (mean of {o:,.0f} before, {o2:,.0f} after) | {owner:,.0f} req/s, p50 $O_P50 ms, p99 $O_P99 ms, non-2xx $O_BAD |")
print(f"| GET /v1/account through a non-owner (one CAF hop to the owner) | {n:,.0f} req/s, p50 $N_P50 ms, p99 $N_P99 ms, non-2xx $N_BAD |")
print(f"| non-owner / owner | {n/owner:.2f} |")
print(f"| handoff of one partition ({users:,} users' share of {2*users:,}): keys | {h['keys']:,} |")
print(f"| handoff: bytes sent | {h['bytes']:,} ({h['bytes']/2**20:.1f} MiB) |")
print(f"| handoff: time at the source (range copy, catch-up, seal, last writes) | {h['millis']} ms ({h['bytes']/2**20/max(h['millis'],1)*1000:.0f} MiB/s) |")
print(f"| join to settled, as seen by a client (includes process start) | {total_ms:,.0f} ms |")
PY
for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; PIDS=()

# 3. a fourth node joins three under load
HP=(); CP=()
for i in 1 2 3 4; do HP+=("$(free_port)"); CP+=("$(free_port)"); done
start_node node-1 "${HP[0]}" "${CP[0]}" "$WORK/j1" 64
start_node node-2 "${HP[1]}" "${CP[1]}" "$WORK/j2" 64 "127.0.0.1:${CP[0]}"
start_node node-3 "${HP[2]}" "${CP[2]}" "$WORK/j3" 64 "127.0.0.1:${CP[0]}"
python3 - "${HP[0]}" "$WORK" "$KEY" <<'PY'
import json, sys; sys.path.insert(0, "bench"); from client import *
port, work, key = sys.argv[1], sys.argv[2], sys.argv[3]
v = settled(port, key, 3)
toks = [call(port, "/v1/sessions/anonymous", {})["session"]["token"] for _ in range(64)]
open(f"{work}/join_tokens", "w").write("\n".join(toks))
json.dump(v["partition_table"]["owners"], open(f"{work}/owners_before.json", "w"))
with open(f"{work}/mixed.lua", "w") as f:
    f.write("local tokens = {" + ",".join(f'"{t}"' for t in toks) + "}\n")
    f.write("local i = 0\nfunction request()\n  i = i + 1\n  local t = tokens[(i % #tokens) + 1]\n"
            "  if i % 2 == 0 then return wrk.format('GET', '/v1/account', {['Authorization'] = 'Bearer ' .. t}) end\n"
            "  return wrk.format('PATCH', '/v1/account', {['Authorization'] = 'Bearer ' .. t, ['Content-Type'] = 'application/json'}, "
            "'{\"metadata\":{\"n\":' .. i .. '}}')\nend\n")
PY
wrk -t2 -c"$CONN" -d"${DUR}s" --latency -s "$WORK/mixed.lua" "http://127.0.0.1:${HP[0]}/v1/account" > "$WORK/join.txt" &
WRK=$!
sleep $(( DUR / 3 ))
start_node node-4 "${HP[3]}" "${CP[3]}" "$WORK/j4" 64 "127.0.0.1:${CP[1]}"
wait $WRK
read -r J J_P50 J_P99 J_BAD < <(parse < "$WORK/join.txt")
cat "$WORK/handoff.txt"
python3 - "$WORK" "$KEY" "$J" "$J_P99" "$J_BAD" "$(grep -c . "$WORK/join_tokens")" "${HP[@]}" <<'PY'
import json, sys; sys.path.insert(0, "bench"); from client import *
work, key, rps, p99, bad, n = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4], int(sys.argv[5]), sys.argv[6]
ports = sys.argv[7:]
v = call(ports[0], "/debug/cluster", key=key)
before = json.load(open(f"{work}/owners_before.json"))
after = v["partition_table"]["owners"]
moved = [p for p in range(len(after)) if before[p] != after[p]]
between_old = [p for p in moved if after[p] != "node-4"]
toks = open(f"{work}/join_tokens").read().split()
unreadable = sum(1 for t in toks for port in ports if status(port, "/v1/account", token=t) != 200)
print(f"| join of a 4th node under load: req/s through node-1 (reads + writes) | {rps:,.0f}, p99 {p99} ms |")
print(f"| join: non-2xx responses during the run | {bad} |")
print(f"| join: partitions moved (to node-4 / between old nodes) | {len(moved)} of {len(after)} ({len(moved) - len(between_old)} / {len(between_old)}) |")
print(f"| join: users not readable through some node afterwards | {unreadable} of {len(toks)} users x {len(ports)} nodes |")
PY
