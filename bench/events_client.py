"""Event-stream load for bench/messages.sh (127.0.0.1 only, bounded in time).

  events_client.py PORT ADMIN_KEY TOKENS_FILE USER_IDS_FILE NOTIFICATIONS OUT_JSON

Opens one GET /v1/events per token (asyncio, raw HTTP), waits until all are
open, writes "open" to stdout and waits for a line on stdin (the caller
measures RSS and runs wrk meanwhile), then sends NOTIFICATIONS admin
notifications one at a time, each to a random user, carrying its send time,
and records when each arrives on that user's stream. Writes
{streams, opened, p50_ms, p99_ms, max_ms, received, sent} to OUT_JSON.
"""
import asyncio
import json
import random
import sys
import time

port, key = int(sys.argv[1]), sys.argv[2]
tokens = open(sys.argv[3]).read().split()
user_ids = open(sys.argv[4]).read().split()
count, out_file = int(sys.argv[5]), sys.argv[6]

latencies = []
arrived = {}  # title → asyncio.Event
opened = 0


async def stream(token):
    global opened
    r, w = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
    w.write(f"GET /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n".encode())
    await w.drain()
    status = await r.readline()
    if b" 200 " not in status:
        raise RuntimeError(status)
    while (await r.readline()) not in (b"\r\n", b""):
        pass
    opened += 1
    event = None
    while True:
        line = await r.readline()
        if not line:
            return
        if line.startswith(b"event: "):
            event = line[7:].strip()
        elif line.startswith(b"data: ") and event == b"notification":
            now = time.perf_counter()
            title = json.loads(line[6:])["data"]["title"]
            sent = float(title.split()[1])
            latencies.append((now - sent) * 1000)
            if title in arrived:
                arrived[title].set()


async def admin_post(r, w, body):
    data = json.dumps(body).encode()
    w.write(b"POST /v1/admin/notifications HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + f"X-Admin-Key: {key}\r\nContent-Length: {len(data)}\r\n\r\n".encode() + data)
    await w.drain()
    length = 0
    while True:
        line = await r.readline()
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
        if line in (b"\r\n", b""):
            break
    await r.readexactly(length)


async def main():
    tasks = []
    for i in range(0, len(tokens), 500):  # open in waves
        tasks += [asyncio.create_task(stream(t)) for t in tokens[i:i + 500]]
        while opened < min(len(tokens), i + 500):
            await asyncio.sleep(0.05)
            for t in tasks:
                if t.done() and t.exception():
                    raise t.exception()
    print("open", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    r, w = await asyncio.open_connection("127.0.0.1", port)
    for i in range(count):
        title = f"n{i} {time.perf_counter():.6f}"
        arrived[title] = asyncio.Event()
        await admin_post(r, w, {"user_ids": [random.choice(user_ids)], "title": title})
        try:
            await asyncio.wait_for(arrived[title].wait(), 5)
        except asyncio.TimeoutError:
            pass
    latencies.sort()
    pick = lambda q: round(latencies[min(len(latencies) - 1, int(q * len(latencies)))], 2) if latencies else None
    json.dump({"streams": len(tokens), "opened": opened, "sent": count, "received": len(latencies),
               "p50_ms": pick(0.5), "p99_ms": pick(0.99), "max_ms": pick(1.0)}, open(out_file, "w"))
    for t in tasks:
        t.cancel()


asyncio.run(main())
