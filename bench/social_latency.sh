#!/usr/bin/env bash
# Friend invite + accept latency between users on DIFFERENT nodes (issue 12):
# a three-node cluster on 127.0.0.1 (64 partitions), 2×PAIRS guest users, each
# pair one user owned by one node and one by another. For each pair in turn
# (one client, one request at a time: latency, not throughput), the first user
# invites the second (POST /v1/friends/{b}) and the second accepts
# (POST /v1/friends/{a}), each through the node that owns the one who acts, so
# the time is the social protocol's (a forward, or a probe and a delivery, to
# the other node) and not an HTTP hop. Prints p50/p90/p99/max of the invite, of
# the accept and of the two end to end, and the invite split by who acts: the
# pair's owner (the lower id: asks whether the other exists at first contact,
# decides, delivers) or the other user (forwards to the owner), and so the
# accept. Bounded: PAIRS
# pairs (default 2,000), one request at a time.
# Usage: bench/social_latency.sh [pairs=2000]
set -euo pipefail
cd "$(dirname "$0")/.."
PAIRS="${1:-2000}"
WORK_PREFIX=roster-bench-social-latency source bench/lib.sh
KEY="bench-admin-key-0123456789"
export ROSTER_CLUSTER_SECRET="bench-cluster-secret"
export ROSTER_CLUSTER_INSECURE="${ROSTER_CLUSTER_INSECURE:-true}"
start_node() { # name http-port cluster-port data [seeds]
  local seeds=()
  [ -n "${5:-}" ] && seeds=(--seeds "$5")
  "$BUILD/roster" serve --node-name "$1" --http-listen "127.0.0.1:$2" --cluster-listen "127.0.0.1:$3" \
    --data-dir "$4" --partitions 64 --admin-key "$KEY" "${seeds[@]}" --log-level warn > "$4.log" 2>&1 &
  PIDS+=($!)
  wait_http "$2" /healthz
}

echo "== Roster friend invite + accept latency across nodes: $(nproc) cores, 3 nodes, $PAIRS pairs, one request at a time"
HP=(); CP=()
for i in 1 2 3; do HP+=("$(free_port)"); CP+=("$(free_port)"); done
start_node node-1 "${HP[0]}" "${CP[0]}" "$WORK/n1"
start_node node-2 "${HP[1]}" "${CP[1]}" "$WORK/n2" "127.0.0.1:${CP[0]}"
start_node node-3 "${HP[2]}" "${CP[2]}" "$WORK/n3" "127.0.0.1:${CP[0]}"

python3 - "$KEY" "$PAIRS" "${HP[@]}" <<'PY'
import http.client, json, sys, time
sys.path.insert(0, "bench")
from client import call, settled, _parallel
key, pairs, ports = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
for p in ports:
    settled(p, key, 3)
port_of = {f"node-{i + 1}": p for i, p in enumerate(ports)}

# Guests, each with the node that owns it.
def guest(i):
    s = call(ports[i % 3], "/v1/sessions/anonymous", {})
    uid = s["user"]["id"]
    return uid, s["session"]["token"], call(ports[0], f"/debug/users/{uid}", key=key)["owner"]
users = _parallel(guest, 2 * pairs + 300)
by_node = {n: [u for u in users if u[2] == n] for n in port_of}
# Pairs across nodes: node-1's users with node-2's, node-2's with node-3's,
# node-3's with node-1's, in turn; the first user of each pair invites.
plan, k = [], 0
while len(plan) < pairs:
    a_node, b_node = [("node-1", "node-2"), ("node-2", "node-3"), ("node-3", "node-1")][k % 3]
    if not by_node[a_node] or not by_node[b_node]:
        raise SystemExit("not enough users on every node")
    plan.append((by_node[a_node].pop(), by_node[b_node].pop()))
    k += 1

conns = {p: http.client.HTTPConnection("127.0.0.1", int(p)) for p in ports}
def post(user, other_id):
    c = conns[port_of[user[2]]]
    t = time.perf_counter()
    c.request("POST", f"/v1/friends/{other_id}", "", {"Authorization": "Bearer " + user[1]})
    r = c.getresponse()
    body = r.read()
    ms = (time.perf_counter() - t) * 1000
    if r.status != 200:
        raise SystemExit(f"POST /v1/friends: {r.status} {body[:200]}")
    return ms, json.loads(body)["state"]

invite, accept, both, by_owner, by_other, acc_owner, acc_other = [], [], [], [], [], [], []
t0 = time.time()
for a, b in plan:
    ms_i, s_i = post(a, b[0])
    ms_a, s_a = post(b, a[0])
    assert (s_i, s_a) == ("invite_sent", "friend"), (s_i, s_a)
    invite.append(ms_i); accept.append(ms_a); both.append(ms_i + ms_a)
    (by_owner if a[0] < b[0] else by_other).append(ms_i)
    (acc_owner if b[0] < a[0] else acc_other).append(ms_a)
took = time.time() - t0

def pct(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(q * len(v)))]
print(f"\n{pairs} pairs in {took:.1f} s\n")
print("| POST /v1/friends/{id}, users on different nodes | n | p50 ms | p90 ms | p99 ms | max ms |")
print("|---|---|---|---|---|---|")
for name, v in (("invite", invite), ("accept", accept), ("invite + accept, end to end", both),
                ("invite by the pair's owner (lower id)", by_owner), ("invite by the other user (forwarded)", by_other),
                ("accept by the pair's owner", acc_owner), ("accept by the other user (forwarded)", acc_other)):
    if v:
        print(f"| {name} | {len(v)} | {pct(v, .5):.2f} | {pct(v, .9):.2f} | {pct(v, .99):.2f} | {max(v):.2f} |")
PY
