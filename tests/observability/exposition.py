#!/usr/bin/env python3
"""Checks a Prometheus text exposition (format 0.0.4) read from stdin, and
prints `name{labels} value` for the samples asked for on the command line.

Checked: every line is a comment, blank, or a sample `name{l="v",...} value`
with a valid name, quoted and escaped label values, and a float value; every
sample's family has one TYPE line before its samples; counters end in _total
and are >= 0; each histogram's buckets are cumulative, end with le="+Inf",
and +Inf equals _count; the text is valid UTF-8. Exit 1 with the first
problem."""
import math
import re
import sys

raw = sys.stdin.buffer.read()
try:
    text = raw.decode("utf-8")
except UnicodeDecodeError as e:
    sys.exit(f"not UTF-8: {e}")

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(rf"^({NAME})(?:\{{((?:{LABEL})(?:,{LABEL})*)?,?\}})? (\S+)(?: -?\d+)?$")
types, samples = {}, []
for n, line in enumerate(text.split("\n"), 1):
    if not line:
        continue
    if line.startswith("#"):
        parts = line.split(" ", 3)
        if len(parts) >= 3 and parts[1] == "TYPE":
            if parts[2] in types:
                sys.exit(f"line {n}: second TYPE for {parts[2]}")
            if len(parts) != 4 or parts[3] not in ("counter", "gauge", "histogram", "summary", "untyped"):
                sys.exit(f"line {n}: bad TYPE line")
            types[parts[2]] = parts[3]
        continue
    m = SAMPLE.match(line)
    if not m:
        sys.exit(f"line {n}: not a sample: {line!r}")
    name, labels, value = m.group(1), m.group(2) or "", m.group(3)
    try:
        v = float(value.replace("+Inf", "inf").replace("-Inf", "-inf"))
    except ValueError:
        sys.exit(f"line {n}: bad value {value!r}")
    family = name
    for suffix in ("_bucket", "_count", "_sum"):
        if name.endswith(suffix) and name[: -len(suffix)] in types and types[name[: -len(suffix)]] == "histogram":
            family = name[: -len(suffix)]
    if family not in types:
        sys.exit(f"line {n}: sample before its TYPE line: {name}")
    if types[family] == "counter" and (not name.endswith("_total") or v < 0):
        sys.exit(f"line {n}: bad counter {name} {value}")
    pairs = dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', labels))
    samples.append((family, name, pairs, v))

hist = {}
for family, name, pairs, v in samples:
    if types[family] != "histogram":
        continue
    key = (family, tuple(sorted((k, x) for k, x in pairs.items() if k != "le")))
    h = hist.setdefault(key, {"buckets": [], "count": None})
    if name.endswith("_bucket"):
        le = pairs.get("le")
        if le is None:
            sys.exit(f"{name}: bucket without le")
        h["buckets"].append((math.inf if le == "+Inf" else float(le), v))
    elif name.endswith("_count"):
        h["count"] = v
for (family, labels), h in hist.items():
    b = h["buckets"]
    if not b or b[-1][0] != math.inf:
        sys.exit(f"{family}{dict(labels)}: no +Inf bucket")
    if any(b[i][0] >= b[i + 1][0] or b[i][1] > b[i + 1][1] for i in range(len(b) - 1)):
        sys.exit(f"{family}{dict(labels)}: buckets not ascending and cumulative")
    if h["count"] != b[-1][1]:
        sys.exit(f"{family}{dict(labels)}: +Inf bucket {b[-1][1]} != count {h['count']}")

# Asked-for samples: NAME or NAME:label=value,label=value -> prints the value.
for want in sys.argv[1:]:
    name, _, sel = want.partition(":")
    cond = dict(x.split("=", 1) for x in sel.split(",") if x)
    found = [v for _, n, p, v in samples if n == name and all(p.get(k) == x for k, x in cond.items())]
    print(int(found[0]) if found and found[0] == int(found[0]) else (found[0] if found else "missing"))
