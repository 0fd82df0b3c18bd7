"""Small HTTP helpers for the bench scripts (127.0.0.1 only)."""
import json
import time
import urllib.error
import urllib.request


def call(port, path, body=None, key=None, token=None):
    """JSON request; returns the decoded body (raises on HTTP errors)."""
    headers = {"Content-Type": "application/json"}
    if key:
        headers["X-Admin-Key"] = key
    if token:
        headers["Authorization"] = "Bearer " + token
    data = None if body is None else json.dumps(body).encode()
    return json.load(urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}{path}", data, headers)))


def status(port, path, key=None, token=None):
    """The HTTP status of a GET."""
    try:
        call(port, path, key=key, token=token)
        return 200
    except urllib.error.HTTPError as e:
        return e.code


def settled(port, key, members, need_recent=False, tries=1200):
    """Waits until the node sees `members` members and no handoff in progress."""
    for _ in range(tries):
        v = call(port, "/debug/cluster", key=key)
        if len(v["members"]) == members and not v["handoffs"] and (v["recent_handoffs"] or not need_recent):
            return v
        time.sleep(0.05)
    raise SystemExit(f"cluster on {port} did not settle")


def account_lua(path, tokens):
    """A wrk script that reads GET /v1/account with the tokens in turn. The
    requests are formatted once, in init: wrk shares the server's cores, and
    formatting per request would cost it more for a longer token (a JWT)."""
    with open(path, "w") as f:
        f.write("local tokens = {" + ",".join(f'"{t}"' for t in tokens) + "}\n")
        f.write("local reqs, i = {}, 0\nfunction init(args)\n  for k, t in ipairs(tokens) do\n"
                "    reqs[k] = wrk.format('GET', '/v1/account', {['Authorization'] = 'Bearer ' .. t})\n  end\nend\n"
                "function request()\n  i = i + 1\n  return reqs[(i % #reqs) + 1]\nend\n")


def _parallel(fn, n, workers=8):
    """fn(i) for i in range(n) on `workers` threads, results in order."""
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(fn, range(n)))


def guest_tokens(port, n):
    """Creates n guest users and returns one session token of each."""
    return _parallel(lambda i: call(port, "/v1/sessions/anonymous", {})["session"]["token"], n)


def register_devices(port, n, prefix="bench-device"):
    """Registers n device users (POST /v1/sessions/device) and returns their device ids."""
    ids = [f"{prefix}-{i:06d}" for i in range(n)]
    created = _parallel(lambda i: call(port, "/v1/sessions/device", {"device_id": ids[i]})["created"], n)
    assert all(created), "a bench device id already existed"
    return ids


# wrk gives each thread its own Lua state: `setup` numbers the threads so that
# each starts at its own offset in the list instead of all in lockstep.
_THREAD_OFFSET = ("local threads = 0\nfunction setup(thread) thread:set('tid', threads); threads = threads + 1 end\n"
                  "local i = nil\n")


def _start(n):
    return f"  if i == nil then i = (tid or 0) * {max(1, n // 2)} end\n  i = i + 1\n"


def patch_lua(path, tokens):
    """A wrk script: PATCH /v1/account with the tokens in turn, the display name
    alternating between two values on every pass over the list (every request
    changes the record)."""
    n = len(tokens)
    with open(path, "w") as f:
        f.write("local tokens = {" + ",".join(f'"{t}"' for t in tokens) + "}\n" + _THREAD_OFFSET)
        f.write("local names = {'{\"display_name\":\"Bench Even\"}', '{\"display_name\":\"Bench Odd\"}'}\n")
        f.write("function request()\n" + _start(n) +
                "  local body = names[(math.floor(i / #tokens) % 2) + 1]\n"
                "  return wrk.format('PATCH', '/v1/account', {['Authorization'] = 'Bearer ' .. tokens[(i % #tokens) + 1],"
                " ['Content-Type'] = 'application/json'}, body)\nend\n")


def device_lua(path, device_ids):
    """A wrk script: POST /v1/sessions/device with the (existing) device ids in turn."""
    n = len(device_ids)
    with open(path, "w") as f:
        f.write("local bodies = {" + ",".join("'" + json.dumps({"device_id": d}) + "'" for d in device_ids) + "}\n"
                + _THREAD_OFFSET)
        f.write("function request()\n" + _start(n) +
                "  return wrk.format('POST', '/v1/sessions/device', {['Content-Type'] = 'application/json'},"
                " bodies[(i % #bodies) + 1])\nend\n")
