"""Helpers for the admin endpoint tests: a strict Prometheus text-format
parser, the OpenAPI document as JSON Schemas, and check-ins from real
clients."""
import json
import math
import re
import socket
import subprocess
import time
from pathlib import Path

import jsonschema
import yaml

OPENAPI = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
ZONE = "bestchristmascard.com"

_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\["\\n])*)"')
_SUFFIXES = ("_total", "_sum", "_count", "_bucket")


def parse_prometheus(text):
    """Parse text exposition format 0.0.4 strictly: every sample's family
    has exactly one HELP and one TYPE line before its first sample, samples
    of a family are contiguous, label sets are unique, counters end in
    _total, values are floats. Returns {family: {"type", "help", "samples":
    {(name, frozenset(labels)): value}}}."""
    fams = {}
    cur = None
    closed = set()
    assert text.endswith("\n"), "exposition must end with a newline"
    for n, line in enumerate(text.split("\n")[:-1], 1):
        where = f"line {n}: {line!r}"
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            kind, rest = line[2:6], line[7:]
            name, _, value = rest.partition(" ")
            assert _NAME.match(name), where
            f = fams.setdefault(name, {"type": None, "help": None, "samples": {}})
            assert not f["samples"], f"{where}: {kind} after samples"
            key = "help" if kind == "HELP" else "type"
            assert f[key] is None, f"{where}: second {kind}"
            if kind == "TYPE":
                assert value in ("counter", "gauge", "summary", "histogram", "untyped"), where
            assert value, where
            f[key] = value
            if cur is not None and cur != name:
                closed.add(cur)
            cur = name
            continue
        assert line and not line.startswith("#"), f"{where}: unexpected line"
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$", line)
        assert m, f"{where}: not a sample"
        name, labels, value = m.group(1), m.group(2), m.group(3)
        fam = name if name in fams else next(
            (name[: -len(s)] for s in _SUFFIXES if name.endswith(s) and name[: -len(s)] in fams),
            None)
        assert fam is not None, f"{where}: sample without HELP/TYPE"
        assert fam not in closed, f"{where}: family {fam} is not contiguous"
        if fam != cur:
            closed.add(cur)
            cur = fam
        f = fams[fam]
        assert f["type"] and f["help"], f"{where}: HELP and TYPE come first"
        lab = {}
        if labels:
            inner = labels[1:-1]
            pos = 0
            while pos < len(inner):
                lm = _LABEL.match(inner, pos)
                assert lm, f"{where}: bad labels"
                assert lm.group(1) not in lab, f"{where}: label repeated"
                lab[lm.group(1)] = lm.group(2)
                pos = lm.end()
                if pos < len(inner):
                    assert inner[pos] == ",", f"{where}: bad labels"
                    pos += 1
        v = float(value)
        assert not math.isnan(v), where
        if f["type"] == "counter":
            assert name.endswith("_total"), f"{where}: a counter's name ends in _total"
            assert v >= 0, where
        key = (name, frozenset(lab.items()))
        assert key not in f["samples"], f"{where}: duplicate sample"
        f["samples"][key] = v
    for name, f in fams.items():
        assert f["type"] and f["help"], f"family {name} lacks HELP or TYPE"
    return fams


def metric(fams, name, **labels):
    for fam in fams.values():
        key = (name, frozenset(labels.items()))
        if key in fam["samples"]:
            return fam["samples"][key]
    raise KeyError(f"{name}{labels} not exposed")


def _to_jsonschema(node):
    """OpenAPI 3.0 schema objects into JSON Schema (nullable -> null type)."""
    if isinstance(node, list):
        return [_to_jsonschema(x) for x in node]
    if not isinstance(node, dict):
        return node
    out = {k: _to_jsonschema(v) for k, v in node.items()
           if k not in ("nullable", "description", "example")}
    if node.get("nullable"):
        if "type" in out:
            out["type"] = [out["type"], "null"]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = out["enum"] + [None]
        if "$ref" in out:
            out = {"anyOf": [{"$ref": out["$ref"]}, {"type": "null"}]}
    return out


class OpenAPI:
    def __init__(self):
        self.doc = yaml.safe_load(OPENAPI.read_text())
        self.components = _to_jsonschema(self.doc["components"])

    def validate(self, name, instance):
        schema = {"$ref": f"#/components/schemas/{name}", "components": self.components}
        jsonschema.Draft7Validator(schema).validate(instance)

    def response_schema(self, path, status):
        """The schema name a documented response of path has."""
        resp = self.doc["paths"][path]["get"]["responses"][str(status)]
        if "$ref" in resp:
            resp = self.doc["components"]["responses"][resp["$ref"].rsplit("/", 1)[1]]
        return resp["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]


def checkin_http(s, n=1, host=f"www.{ZONE}"):
    for i in range(n):
        p = subprocess.run(["curl", "-s", "-S", "--max-time", "10", "-A", "Mozilla", "-e", "Mozilla",
                            "-d", f"a=QUJD{i}&b=eHl6", "-H", f"Host: {host}",
                            f"http://127.0.0.1:{s.http_port}/qwxmtz{i}.png"],
                           capture_output=True, timeout=30)
        assert p.returncode == 0, p.stderr


def checkin_tls(s, n=1):
    for _ in range(n):
        p = subprocess.run(["curl", "-s", "-S", "-k", "--max-time", "10", "--resolve",
                            f"www.{ZONE}:{s.tls_port}:127.0.0.1",
                            f"https://www.{ZONE}:{s.tls_port}/"], capture_output=True, timeout=30)
        assert p.returncode == 0, p.stderr


def checkin_raw(s, payload=b"\x01\x02\x01\x01hello"):
    c = socket.create_connection(("127.0.0.1", s.any_port), timeout=5)
    c.sendall(payload)
    c.close()


def get_json(s, path, token=None, status=200):
    code, headers, body = s.admin_get(path, token=token)
    assert code == status, (path, code, body)
    assert headers["Content-Type"] == "application/json", headers
    return json.loads(body)


def wait_for(pred, timeout=10.0, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")
