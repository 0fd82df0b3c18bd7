#!/usr/bin/env python3
"""Holds docs/openapi.yaml to the code, and recorded HTTP answers to docs/openapi.yaml.

  openapi_check.py SOURCE_DIR                          the document alone
  openapi_check.py SOURCE_DIR EXCHANGES [--every-operation]

The document alone: every error response whose body is an Error lists its codes in
`x-error-codes`; each listed code exists (base/errc.cc) and, for a response with an explicit
status, maps to that status (http/errors.cc); the ErrorCode enum is exactly base/errc.cc's
names.

EXCHANGES is a file of JSON lines, one per HTTP answer a test received (tests/support/
roster_server.h writes them): {"method", "path", "status", "content_type", "body"}, "path"
without its query. Each is matched to an operation of the document as the server's route
table matches (literal segments before parameters) and must be documented: its status has a
response (or falls to `default`, for an error), the body has the documented media type and
validates against the response's schema, and an error's code is one of the response's
`x-error-codes`. A path the document does not have must be answered with an Error
(`not_found`). --every-operation also fails when some operation of the document was never
called.

Needs Debian's python3-yaml and python3-jsonschema (scripts/deps). Prints one line per
problem and a closing count; exits 1 on any problem.
"""
import json
import re
import sys

import jsonschema
import yaml

METHODS = ("get", "put", "post", "delete", "patch", "options", "head", "trace")


def escape(part):
    return str(part).replace("~", "~0").replace("/", "~1")


def pointer(*parts):
    return "#/" + "/".join(escape(p) for p in parts)


class Document:
    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            self.doc = yaml.safe_load(f)
        self.templates = [(p, [s for s in p.split("/") if s]) for p in self.doc["paths"]]
        self.validators = {}

    def at(self, ref):
        node = self.doc
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def resolve(self, node, where):
        """A response object with its $ref followed, and the pointer of what was found."""
        while isinstance(node, dict) and "$ref" in node:
            where = node["$ref"]
            node = self.at(where)
        return node, where

    def validator(self, schema_pointer):
        # The whole document is the root resource, so that every "#/components/..." $ref
        # resolves; its other keys (openapi, info, paths...) are no JSON Schema keywords.
        if schema_pointer not in self.validators:
            root = dict(self.doc)
            root["$ref"] = schema_pointer
            self.validators[schema_pointer] = jsonschema.Draft202012Validator(root)
        return self.validators[schema_pointer]

    def route_of(self, path, method=None):
        """The document's path that the server would route `method` `path` to: of the paths
        that match and have that method, the one with the most literal segments (as the route
        table lists "/v1/sessions/current" before "/v1/sessions/{id}"). Without such a path, any
        that matches (the server then answers 405), or None (404)."""
        segs = [s for s in path.split("/") if s]
        best = None
        for template, parts in self.templates:
            if len(parts) != len(segs):
                continue
            if all(p == s or (p.startswith("{") and p.endswith("}")) for p, s in zip(parts, segs)):
                has = method is None or method.lower() in self.doc["paths"][template]
                rank = (has, sum(1 for p in parts if not p.startswith("{")))
                if best is None or rank > best[0]:
                    best = (rank, template)
        return best[1] if best else None

    def operations(self):
        for path, item in self.doc["paths"].items():
            for method in METHODS:
                if method in item:
                    yield method.upper(), path, item[method]

    def error_responses(self):
        """(where, status or 'default', response) of every response whose body is an Error."""
        error_ref = "#/components/schemas/Error"
        for method, path, op in self.operations():
            for status, raw in op["responses"].items():
                resp, where = self.resolve(raw, pointer("paths", path, method.lower(), "responses", status))
                schema = resp.get("content", {}).get("application/json", {}).get("schema", {})
                if schema.get("$ref") == error_ref:
                    yield f"{method} {path} {status}", str(status), resp


def code_table(source_dir):
    """errc names (base/errc.cc) and their HTTP statuses (http/errors.cc)."""
    with open(f"{source_dir}/base/errc.cc", encoding="utf-8") as f:
        names = set(re.findall(r'return "([a-z_]+)";', f.read())) - {"ok"}
    with open(f"{source_dir}/http/errors.cc", encoding="utf-8") as f:
        text = f.read()
    body = text[text.index("int status_of(errc e)"):]
    body = body[:body.index("\n}\n")]
    status, pending = {}, []
    for case, ret in re.findall(r"case errc::([a-z_]+):|return (\d+);", body):
        if case:
            pending.append(case)
        elif pending:
            for c in pending:
                status[c] = int(ret)
            pending = []
    return names, status


def check_document(d, source_dir, problems):
    names, status = code_table(source_dir)
    enum = set(d.doc["components"]["schemas"]["ErrorCode"]["enum"])
    for missing in sorted(names - enum):
        problems.append(f"ErrorCode: base/errc.cc has `{missing}`, the enum does not")
    for extra in sorted(enum - names):
        problems.append(f"ErrorCode: `{extra}` is not a code of base/errc.cc")
    for code in sorted(names - set(status)):
        problems.append(f"http/errors.cc: no status found for `{code}` (did the switch change shape?)")
    count = 0
    for where, code_status, resp in d.error_responses():
        count += 1
        codes = resp.get("x-error-codes")
        if not codes:
            problems.append(f"{where}: an error response without x-error-codes")
            continue
        for code in codes:
            if code not in enum:
                problems.append(f"{where}: x-error-codes names `{code}`, which is no ErrorCode")
            elif code_status != "default" and status.get(code) != int(code_status):
                problems.append(f"{where}: `{code}` is answered {status.get(code)} (http/errors.cc), not {code_status}")
    return count


def check_exchange(d, ex, statuses, problems):
    method, path, status = ex["method"].upper(), ex["path"], int(ex["status"])
    what = f"{method} {path} → {status}"
    body_text = ex.get("body", "")
    media = (ex.get("content_type") or "").split(";")[0].strip().lower()
    route = d.route_of(path, "GET" if method == "HEAD" else method)
    if route is not None and method == "OPTIONS":
        # A CORS preflight on a known path: 204 with `Allow`, no body (not an operation).
        if status != 204 or body_text:
            problems.append(f"{what}: a preflight is answered 204 without a body")
        return
    if method == "HEAD":
        method, body_text = "GET", ""  # answered as GET, without the body
        if status < 300:
            return
    if route is None or method.lower() not in d.doc["paths"][route]:
        if route is None:
            resp, where = {"x-error-codes": ["not_found"]}, None
        else:
            resp, where = {"x-error-codes": ["method_not_allowed"]}, None
        schema_pointer = "#/components/schemas/Error"
    else:
        op = d.doc["paths"][route][method.lower()]
        responses = op["responses"]
        key = str(status)
        if key in responses:
            chosen = key
        elif f"{status // 100}XX" in responses:
            chosen = f"{status // 100}XX"
        elif "default" in responses and status >= 400:
            chosen = "default"
        else:
            problems.append(f"{what}: status {status} is not documented for {method} {route}")
            return
        resp, where = d.resolve(responses[chosen], pointer("paths", route, method.lower(), "responses", chosen))
        content = resp.get("content")
        if not content:
            if body_text:
                problems.append(f"{what}: documented without a body, but one came: {body_text[:200]}")
            return
        if media not in content:
            problems.append(f"{what}: media type `{media}`, documented: {', '.join(content)}")
            return
        if media != "application/json":
            return
        schema_pointer = where + "/content/application~1json/schema"
    try:
        body = json.loads(body_text)
    except ValueError:
        problems.append(f"{what}: the body is not JSON: {body_text[:200]}")
        return
    errors = sorted(d.validator(schema_pointer).iter_errors(body), key=lambda e: list(e.absolute_path))
    for e in errors[:5]:
        at = "/".join(str(p) for p in e.absolute_path) or "(body)"
        problems.append(f"{what}: {at}: {e.message[:300]}")
    codes = resp.get("x-error-codes")
    if codes and not errors:
        code = body.get("error", {}).get("code")
        if code not in codes:
            problems.append(f"{what}: error code `{code}`, documented: {', '.join(codes)}")
        # The edge answers 408 and 431 with invalid_request; otherwise http/errors.cc decides.
        elif statuses.get(code) != status and not (code == "invalid_request" and status in (408, 431)):
            problems.append(f"{what}: `{code}` should come with {statuses.get(code)} (http/errors.cc)")


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    source_dir = argv[1]
    d = Document(f"{source_dir}/docs/openapi.yaml")
    problems = []
    n_errors = check_document(d, source_dir, problems)
    statuses = code_table(source_dir)[1]
    summary = f"document: {n_errors} error responses checked"
    if len(argv) > 2:
        called = set()
        count = 0
        with open(argv[2], encoding="utf-8") as f:
            for line in f:
                if not line.strip():
                    continue
                ex = json.loads(line)
                count += 1
                route = d.route_of(ex["path"], ex["method"])
                if route:
                    called.add((ex["method"].upper(), route))
                check_exchange(d, ex, statuses, problems)
        summary += f"; {count} answers checked"
        if "--every-operation" in argv:
            for method, path, _ in d.operations():
                if (method, path) not in called:
                    problems.append(f"{method} {path}: never called by this test")
    for p in problems:
        print(p)
    print(f"openapi_check: {summary}; {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
