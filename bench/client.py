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
    """A wrk script that reads GET /v1/account with the tokens in turn."""
    with open(path, "w") as f:
        f.write("local tokens = {" + ",".join(f'"{t}"' for t in tokens) + "}\n")
        f.write("local i = 0\nfunction request()\n  i = i + 1\n"
                "  return wrk.format('GET', '/v1/account', {['Authorization'] = 'Bearer ' .. tokens[(i % #tokens) + 1]})\nend\n")
