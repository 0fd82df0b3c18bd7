#!/usr/bin/python3
"""A real SMTP server for tests/delivery/deliverer_test.cc (Debian's python3-aiosmtpd).

Listens on 127.0.0.1:--port and requires STARTTLS (with --cert/--key) before any mail
command; with --user/--password it also requires AUTH (PLAIN or LOGIN, only over TLS).
--plain offers no STARTTLS at all (a server a sender must refuse to use).

For each message received it writes, into --out:
  <n>.eml   the raw bytes of the message as received (DATA, dot-unstuffed)
  <n>.json  the envelope and what Python's email package reads in the message:
            {"mail_from", "rcpt_tos", "tls", "login",
             "message_id", "from", "to", "subject" (RFC 2047 decoded), "content_type",
             "text", "html" (decoded parts, or null), "defects" (parser complaints)}
<n>.json is renamed into place last, so a reader that sees it sees both files.
Prints "ready" on stdout once it accepts connections; stops on SIGTERM.
The certificate and key come from the test: this script generates nothing.
"""
import argparse
import email
import email.policy
import json
import os
import signal
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def parse(raw):
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    parts = {"text": None, "html": None}
    defects = [type(d).__name__ for d in msg.defects]
    for part in msg.walk():
        defects += [type(d).__name__ for d in part.defects if part is not msg]
        if part.is_multipart():
            continue
        kind = part.get_content_type()
        if kind == "text/plain" and parts["text"] is None:
            parts["text"] = part.get_content()
        elif kind == "text/html" and parts["html"] is None:
            parts["html"] = part.get_content()
    return {
        "message_id": msg["Message-ID"],
        "from": msg["From"],
        "to": msg["To"],
        "subject": str(msg["Subject"]) if msg["Subject"] is not None else None,
        "date": msg["Date"],
        "content_type": msg.get_content_type(),
        "text": parts["text"],
        "html": parts["html"],
        "defects": defects,
    }


class Recorder:
    def __init__(self, out):
        self.out = out
        self.n = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.n += 1
            n = self.n
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        base = os.path.join(self.out, str(n))
        with open(base + ".eml", "wb") as f:
            f.write(raw)
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "tls": session.ssl is not None,
            "login": (session.auth_data.login.decode("utf-8", "replace")
                      if isinstance(session.auth_data, LoginPassword) else None),
        }
        try:
            record.update(parse(raw))
        except Exception as e:  # a message the parser cannot read is a finding, not a crash
            record["parse_error"] = repr(e)
        with open(base + ".json.tmp", "w", encoding="utf-8") as f:
            json.dump(record, f)
        os.rename(base + ".json.tmp", base + ".json")
        return "250 OK"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--out", required=True)
    p.add_argument("--user")
    p.add_argument("--password")
    p.add_argument("--plain", action="store_true", help="offer no STARTTLS")
    a = p.parse_args()

    kwargs = {}
    if not a.plain:
        if not (a.cert and a.key):
            p.error("--cert and --key are needed unless --plain")
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(a.cert, a.key)
        kwargs.update(tls_context=tls, require_starttls=True)
    if a.user is not None:
        user, password = a.user.encode(), (a.password or "").encode()

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (isinstance(auth_data, LoginPassword)
                  and auth_data.login == user and auth_data.password == password)
            # handled=False: aiosmtpd answers 535 itself (by default it would answer nothing)
            return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

        kwargs.update(authenticator=authenticator, auth_required=True, auth_require_tls=True)

    controller = Controller(Recorder(a.out), hostname="127.0.0.1", port=a.port,
                            server_hostname="roster-test-smtp", **kwargs)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print("ready", flush=True)
    stop.wait()
    controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
