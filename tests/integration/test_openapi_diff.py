"""The differential test of issue 15: generated records, valid and invalid
at every type edge, judged twice -- by an independent JSON Schema
validator (ajv with ajv-formats, tests/integration/ajv_judge.mjs) against
each connector's record schema as `sluice openapi` publishes it, and by
sluice's own intake (`POST .../records?dry_run=true` on a running
gateway) -- with the same verdict for every record except the differences
in DIFFERENCES, each of which docs/tools.md ("Where the schema and sluice
differ") lists. A mismatch not on the list fails the test with the
record, both verdicts and sluice's reason; a listed difference that no
record shows fails it too, so the list cannot go stale. The document
judged is the one `sluice openapi -c FILE` prints, which must equal the
running gateway's GET /openapi.json; the records go in NDJSON chunks, and
those that are JSON to sluice again as JSON arrays, with the same
verdicts. One chunk is then posted for real: its answer equals the dry
run's byte for byte, and exactly its accepted records reach the
destination, every field in schema order.

The connectors: `types` (every field type, with and without nullable,
enum, min/max, min_length/max_length, nested objects and arrays, unknown
fields rejected), `flat` (its scalar fields: sluice encodes a flat schema
in a pass of its own), `loose` (unknown fields dropped, small limits)
and the shipped examples of conf/connectors/ (none has a transform).
Python 3 standard library only; node with ajv comes from
scripts/install-deps.sh."""

import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import unicodedata
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_it import (HERE, SOURCE_DIR, LuaRaw, SluiceTestCase,  # noqa: E402
                       connector_lua, wait_until)

SEED = 15
CHUNK = 400          # records per dry-run request
RANDOM_PER = 120     # records with several random edits, per connector
MIN_RECORDS = 2000   # the floor, all connectors together

INT64_MIN, INT64_MAX = -2 ** 63, 2 ** 63 - 1
LUA_INT = {INT64_MIN: LuaRaw("math.mininteger"),
           INT64_MAX: LuaRaw("math.maxinteger")}

# --------------------------------------------------------------------------
# the connectors under test (the schema as a connector file writes it)

STAGES = ["lead", "customer", "Ünïcode", "😀", "a b"]

TYPES_SCHEMA = [
    {"name": "rid", "type": "integer"},  # the record's id: never edited
    {"name": "s", "type": "string"},
    {"name": "s_null", "type": "string", "nullable": True},
    {"name": "s_len", "type": "string", "min_length": 2, "max_length": 5},
    {"name": "s_max0", "type": "string", "nullable": True, "max_length": 0},
    {"name": "stage", "type": "string", "enum": STAGES},
    {"name": "stage_null", "type": "string", "nullable": True,
     "enum": ["x", "y"]},
    {"name": "i", "type": "integer"},
    {"name": "i_null", "type": "integer", "nullable": True},
    {"name": "i_range", "type": "integer", "min": -5, "max": 100},
    {"name": "i_edge", "type": "integer", "nullable": True,
     "min": INT64_MIN, "max": INT64_MAX},
    {"name": "i_2p53", "type": "integer", "nullable": True,
     "max": 9007199254740992},
    {"name": "n", "type": "number"},
    {"name": "n_null", "type": "number", "nullable": True},
    {"name": "n_range", "type": "number", "min": -1.5, "max": 1e6},
    {"name": "b", "type": "boolean"},
    {"name": "b_null", "type": "boolean", "nullable": True},
    {"name": "d", "type": "date"},
    {"name": "d_null", "type": "date", "nullable": True},
    {"name": "dt", "type": "datetime"},
    {"name": "dt_null", "type": "datetime", "nullable": True},
    {"name": "j", "type": "json"},
    {"name": "j_null", "type": "json", "nullable": True},
    {"name": "addr", "type": "object", "fields": [
        {"name": "street", "type": "string"},
        {"name": "zip", "type": "string", "max_length": 5},
        {"name": "floor", "type": "integer", "nullable": True, "min": 0},
        {"name": "geo", "type": "object", "nullable": True, "fields": [
            {"name": "lat", "type": "number", "min": -90, "max": 90},
            {"name": "lon", "type": "number", "min": -180, "max": 180},
        ]},
    ]},
    {"name": "opt", "type": "object", "nullable": True, "fields": [
        {"name": "k", "type": "string", "enum": ["on", "off"]},
    ]},
    {"name": "tags", "type": "array", "min_items": 1, "max_items": 3,
     "items": {"type": "string", "max_length": 3}},
    {"name": "tags_null", "type": "array", "nullable": True,
     "items": {"type": "integer", "nullable": True, "min": 0}},
    {"name": "lines", "type": "array", "max_items": 2,
     "items": {"type": "object", "fields": [
         {"name": "sku", "type": "string"},
         {"name": "qty", "type": "integer", "min": 1},
         {"name": "when", "type": "date", "nullable": True},
     ]}},
    {"name": "grid", "type": "array", "nullable": True,
     "items": {"type": "array", "max_items": 2,
               "items": {"type": "number", "nullable": True}}},
    # 8 levels of objects and arrays below the record, the most there is
    {"name": "deep", "type": "object", "nullable": True, "fields": [
        {"name": "a", "type": "array", "items": {
            "type": "object", "fields": [
                {"name": "b", "type": "array", "items": {
                    "type": "object", "fields": [
                        {"name": "c", "type": "array", "items": {
                            "type": "array", "items": {
                                "type": "object", "fields": [
                                    {"name": "z", "type": "datetime"},
                                ]}}}]}}]}},
    ]},
]

# the scalar fields alone: a flat schema takes sluice's other encoder
FLAT_SCHEMA = [f for f in TYPES_SCHEMA
               if f["type"] not in ("object", "array", "json")]
FLAT_LIMITS = {"string_bytes": 100, "fields": 30}

LOOSE_SCHEMA = [
    {"name": "rid", "type": "integer"},
    {"name": "name", "type": "string"},
    {"name": "note", "type": "string", "nullable": True, "max_length": 40},
    {"name": "score", "type": "number", "nullable": True},
    {"name": "meta", "type": "object", "nullable": True, "fields": [
        {"name": "src", "type": "string"},
    ]},
    {"name": "blob", "type": "json", "nullable": True},
]
LOOSE_LIMITS = {"string_bytes": 64, "record_bytes": 600, "fields": 12,
                "depth": 6}

# the shipped examples, by file stem; their schemas are flat
EXAMPLES = ["crm_contacts", "events_ndjson", "hubspot_contacts",
            "bulk_contacts", "oauth2_example", "rest_users", "saas_events",
            "signed_webhooks"]


def lua_schema(fields):
    """A schema list with int64 bounds as Lua's math.min/maxinteger (a
    literal -9223372036854775808 is a float in Lua)."""
    def conv(v):
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        if isinstance(v, list):
            return [conv(x) for x in v]
        if isinstance(v, int) and not isinstance(v, bool) and v in LUA_INT:
            return LUA_INT[v]
        return v
    return conv(fields)


# --------------------------------------------------------------------------
# JSON text: records are built as bytes, so that a literal is exactly what
# is written (1.0 is not 1, "\u0065" is not "e", bytes may be invalid)

def js(text):
    """A JSON string literal of text, non-ASCII as is."""
    return json.dumps(text, ensure_ascii=False).encode()


def js_escaped(text):
    """The same with every character escaped as \\uXXXX (surrogate pairs
    for characters past U+FFFF)."""
    out = []
    for ch in text:
        c = ord(ch)
        if c > 0xFFFF:
            c -= 0x10000
            out.append("\\u%04x\\u%04x" % (0xD800 + (c >> 10),
                                           0xDC00 + (c & 0x3FF)))
        else:
            out.append("\\u%04x" % c)
    return ('"' + "".join(out) + '"').encode()


def obj(members):
    """A JSON object from (key bytes or str, value bytes) pairs."""
    parts = []
    for k, v in members:
        parts.append((js(k) if isinstance(k, str) else k) + b":" + v)
    return b"{" + b",".join(parts) + b"}"


def arr(items):
    return b"[" + b",".join(items) + b"]"


# the wrong JSON type for every field: one of each
WRONG = [b"null", b"true", b"false", b"0", b"-1.5", b'"x"', b'""', b"[]",
         b"{}", b'["a"]', b'{"a":1}']


def chars(n, kind):
    """A string literal of n characters of a kind (its code points, as the
    schema counts them, are n)."""
    one = {"a": "a", "e2": "é", "e4": "😀", "cjk": "漢"}
    if kind in one:
        return js(one[kind] * n)
    if kind == "esc2":
        return js_escaped("é" * n)
    if kind == "pair":
        return js_escaped("😀" * n)
    if kind == "mix":
        return js("".join("aé漢😀"[i % 4] for i in range(n)))
    raise ValueError(kind)


LENGTH_KINDS = ["a", "e2", "e4", "cjk", "esc2", "pair", "mix"]

INTEGERS = [b"0", b"-0", b"1", b"-1", b"7", b"100", b"-5", b"-6", b"101",
            b"9007199254740991", b"9007199254740992", b"9007199254740993",
            b"-9007199254740993", b"9223372036854775807",
            b"-9223372036854775808", b"9223372036854775808",
            b"-9223372036854775809", b"18446744073709551616",
            b"1" + b"0" * 40, b"-" + b"9" * 400,
            b"1.0", b"-0.0", b"100.0", b"1e2", b"1E2", b"1e+2", b"1.5",
            b"2.5e1", b"1e-2", b"1e400", b"-1e400", b"9.223372036854775807e18",
            b'"42"', b'"1"']

NUMBERS = [b"0", b"-0", b"0.0", b"-0.0", b"3.14", b"-1.5", b"-1.5000001",
           b"1e-3", b"1E+2", b"1e6", b"1000000.0000000001", b"1000000.1",
           b"42", b"9223372036854775808",
           b"1.7976931348623157e308", b"-1.7976931348623157e308",
           b"1.7976931348623158e308",  # rounds to the largest double
           b"1.7976931348623159e308",  # rounds past it: infinite
           b"1e308", b"-1e308", b"1e309", b"-1e309", b"1e400", b"1E400",
           b"4.9e-324", b"1e-400", b"-1e-400", b"2e-308",
           b"1" + b"0" * 308,           # 1e308 written out: finite
           b"1" + b"0" * 309,           # 1e309: infinite
           b"-" + b"9" * 309,
           b"0." + b"0" * 600 + b"1",   # long literals that are finite
           b"1." + b"0" * 600,
           b"-1" + b"0" * 100 + b"." + b"5" * 500,
           b"1" + b"0" * 1000 + b"e-1000",
           b'"1.5"', b'"NaN"', b"NaN", b"-Infinity", b".5", b"5.",
           b"+1", b"01", b"-01", b"0x10", b"1e", b"--1"]

BOOLEANS = [b"true", b"false", b"0", b"1", b'"true"', b'"false"',
            b'"TRUE"', b"[true]"]

STRINGS = [b'""', b'"a"', js("héllo"), b'"h\\u00e9llo"', js("😀"),
           b'"\\ud83d\\ude00"', b'"\\uD83D\\uDE00"', b'"\\ud800"',
           b'"\\udc00"', b'"\\ude00\\ud83d"', b'"a\\ud800b"',
           b'"\\u0000"', b'"\\n\\t\\r\\b\\f\\/\\\\\\""', js("e\u0301"),
           js("\u200b\ufeff"), js("\U0010ffff"), b'"\\uffff"',
           b'"a\x01b"', b'"\xff"', b'"\xc0\xaf"', b'"\xed\xa0\x80"',
           b'"\xf4\x90\x80\x80"', b'"a\tb"', b'"\\x41"', b'"\\u00"',
           b"'single'", b'"."', b'".."', b'"\\u002e\\u002E"',
           b'"..."', js("a" * 4100), js("\u00e9" * 2100), b'"\x7f"',
           b'"\\u001f"', js("\ufffe")]

DATES = ["2024-02-29", "2000-02-29", "1900-02-29", "2023-02-29",
         "2024-04-31", "2024-04-30", "2024-13-01", "2024-00-10",
         "2024-01-00", "2024-12-32", "2024-12-31", "0000-01-01",
         "0000-02-29", "9999-12-31", "2024-1-5", "24-01-05", "20240105",
         "2024/01/05", "2024-01-05T00:00:00Z", " 2024-01-05",
         "2024-01-05 ", "２０２４-01-05", "2024-01-5x", ""]
DATES_RAW = [b'"\\u0032024-01-05"', b'"2024\\u002d01-05"', b"20240105"]

DATETIMES = [
    "2024-05-01T12:30:00Z", "2024-05-01t12:30:00z", "2024-05-01T12:30:00z",
    "2024-05-01T12:30:00.1Z", "2024-05-01T12:30:00.123456789+05:30",
    "2024-05-01T12:30:00.1234567890Z", "2024-05-01T12:30:00.Z",
    "2024-05-01T12:30:00,5Z", "2024-05-01T12:30:00", "2024-05-01 12:30:00Z",
    "2024-05-01\t12:30:00Z", "2024-05-01T24:00:00Z", "2024-05-01T23:60:00Z",
    "2024-05-01T12:30:61Z", "2016-12-31T23:59:60Z", "2024-05-01T12:30:60Z",
    "2016-12-31T15:59:60-08:00", "2024-05-01T12:30:00+05:30",
    "2024-05-01T12:30:00+0530", "2024-05-01T12:30:00+05",
    "2024-05-01T12:30:00+24:00", "2024-05-01T12:30:00+23:59",
    "2024-05-01T12:30:00-00:00", "2024-05-01T12:30:00+05:60",
    "2024-05-01T12:30Z", "2024-02-30T00:00:00Z", "2024-02-29T23:59:59Z",
    "2023-02-29T00:00:00Z", "2024-05-01T12:30:00ZZ", "2024-05-01T12:30:00Z ",
    "2024-05-01T1:30:00Z", "2024-05-01", "0000-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999999999-23:59", "2024-05-01T12:30:00UTC", ""]
DATETIMES_RAW = [b'"2024-05-01\\u005412:30:00Z"', b"1714566600",
                 b'"2024-05-01T12:30:00\\u005a"']

JSON_VALUES = [b"{}", b"[]", b"0", b'"s"', b"true", b"false", b"-0.0e+1",
               b'{"a":[1,{"b":null}],"c":"\\u00e9"}', b'[null]',
               b"1e400", b'"\\ud800"', b'{"a":1,"a":2}',
               b"[" * 20 + b"]" * 20, b"[" * 40 + b"]" * 40,
               b'{"k":' * 30 + b"1" + b"}" * 30]


# --------------------------------------------------------------------------
# the generator: for each field a valid value and its edges

class Gen:
    """Records for one connector schema, from a fixed seed. Every record is
    a base record (all fields valid, nullable ones sometimes left out) with
    edits: a field's value replaced by one of its edges, a field left out,
    an unknown or duplicate member, the members reordered."""

    def __init__(self, schema, seed, rid_field="rid"):
        self.schema = schema
        self.rng = random.Random(seed)
        self.rid_field = rid_field
        self.next_rid = 1

    # -- one value
    def valid(self, f, depth=0):
        t = f["type"]
        r = self.rng
        if t == "string":
            if "enum" in f:
                return js(r.choice(f["enum"]))
            lo, hi = f.get("min_length", 0), f.get("max_length", 12)
            return chars(r.randint(lo, min(hi, lo + 8)),
                         r.choice(LENGTH_KINDS))
        if t == "integer":
            lo, hi = f.get("min", -1000), f.get("max", 1000)
            return str(r.randint(max(lo, -1000), min(hi, max(lo, -1000) + 2000))
                       ).encode()
        if t == "number":
            lo, hi = f.get("min", -1e3), f.get("max", 1e3)
            return repr(round(r.uniform(max(lo, -1e3), min(hi, 1e3)), 3)
                        ).encode()
        if t == "boolean":
            return r.choice([b"true", b"false"])
        if t == "date":
            return js("20%02d-%02d-%02d" % (r.randint(0, 99), r.randint(1, 12),
                                            r.randint(1, 28)))
        if t == "datetime":
            return js("2024-%02d-%02dT%02d:%02d:%02d%sZ"
                      % (r.randint(1, 12), r.randint(1, 28), r.randint(0, 23),
                         r.randint(0, 59), r.randint(0, 59),
                         r.choice(["", ".5", ".123456789"])))
        if t == "json":
            return r.choice([b'{"a":1}', b"[1,2]", b'"x"', b"3", b"true"])
        if t == "object":
            return self.obj_value(f["fields"], depth + 1)
        if t == "array":
            lo = f.get("min_items", 0)
            hi = f.get("max_items", lo + 3)
            n = r.randint(lo, min(hi, lo + 2))
            return arr([self.item_valid(f["items"], depth + 1)
                        for _ in range(n)])
        raise ValueError(t)

    def item_valid(self, item, depth):
        return self.valid(item, depth)

    def obj_value(self, fields, depth, leave_out=0.3):
        members = []
        for f in fields:
            if f.get("nullable") and self.rng.random() < leave_out:
                continue
            members.append((f["name"], self.valid(f, depth)))
        return obj(members)

    def string_edges(self, f):
        out = list(STRINGS)
        if "enum" in f:
            for v in f["enum"]:
                out += [js(v), js_escaped(v), js(v.upper()), js(v.title()),
                        js(v + " "), js(unicodedata.normalize("NFD", v)),
                        js(v[:-1])]
        lo, hi = f.get("min_length"), f.get("max_length")
        for n in sorted({x for x in (lo, hi) if x is not None} |
                        {x + 1 for x in (lo, hi) if x is not None} |
                        {x - 1 for x in (lo, hi) if x}):
            for kind in LENGTH_KINDS:
                out.append(chars(n, kind))
        if lo is None and hi is None:
            for n in (63, 64, 65, 33):  # near the loose connector's limit
                out += [chars(n, "a"), chars(n, "e2")]
            out.append(chars(12, "pair"))
        return out

    def edges(self, f, depth=0):
        """Values of field (or item) f: valid ones at its edges and invalid
        ones, of its type and of every other."""
        t = f["type"]
        if t == "string":
            out = self.string_edges(f)
        elif t == "integer":
            out = list(INTEGERS)
            for k in ("min", "max"):
                if k in f:
                    v = f[k]
                    out += [str(v).encode(), str(v - 1).encode(),
                            str(v + 1).encode(), (str(v) + ".0").encode()]
        elif t == "number":
            out = list(NUMBERS)
            for k in ("min", "max"):
                if k in f:
                    v = float(f[k])
                    out += [repr(v).encode(), repr(v - 0.5).encode(),
                            repr(v + 0.5).encode(),
                            ("%de0" % v).encode() if v == int(v) else b"1"]
        elif t == "boolean":
            out = list(BOOLEANS)
        elif t == "date":
            out = [js(d) for d in DATES] + DATES_RAW
        elif t == "datetime":
            out = [js(d) for d in DATETIMES] + DATETIMES_RAW
        elif t == "json":
            out = list(JSON_VALUES)
        elif t == "object":
            out = self.object_edges(f["fields"], depth + 1)
        elif t == "array":
            out = self.array_edges(f, depth + 1)
        else:
            raise ValueError(t)
        return out + WRONG

    def object_edges(self, fields, depth):
        """A nested object with each of its members edited in turn (fewer
        edges the deeper it is, or the records would multiply)."""
        per = 40 if depth <= 1 else 4
        out = [obj([]), self.obj_value(fields, depth, leave_out=0)]
        for f in fields:
            others = [(g["name"], self.valid(g, depth)) for g in fields
                      if g is not f]
            es = self.edges(f, depth)
            for v in self.rng.sample(es, min(per, len(es))):
                out.append(obj(others + [(f["name"], v)]))
            out.append(obj(others))  # f left out
            out.append(obj(others + [(f["name"], self.valid(f, depth))] * 2))
        out.append(obj([(g["name"], self.valid(g, depth)) for g in fields] +
                       [("zz_unknown", b"1")]))
        out.append(obj([(g["name"], self.valid(g, depth)) for g in fields] +
                       [("zz%d" % k, b"0") for k in range(13)]))
        return out

    def array_edges(self, f, depth):
        item = f["items"]
        lo, hi = f.get("min_items", 0), f.get("max_items")
        out = []
        for n in sorted({0, 1, lo, max(lo - 1, 0), lo + 1} |
                        ({hi, hi + 1} if hi else {5})):
            out.append(arr([self.valid(item, depth) for _ in range(n)]))
        es = self.edges(item, depth)
        per = 40 if depth <= 1 else 4
        for v in self.rng.sample(es, min(per, len(es))):
            out.append(arr([self.valid(item, depth)] * max(lo - 1, 0) + [v]))
        if hi:  # an edit past max_items is only counted, not checked
            out.append(arr([self.valid(item, depth)] * hi + [b'"wrong"']))
        return out

    # -- records
    def rid(self):
        r = self.next_rid
        self.next_rid += 1
        return (self.rid_field, str(r).encode())

    def base(self):
        """The members of a valid record, the id first (if any)."""
        members = [self.rid()] if self.rid_field else []
        for f in self.schema:
            if f["name"] == self.rid_field:
                continue
            if f.get("nullable") and self.rng.random() < 0.2:
                continue
            members.append((f["name"], self.valid(f)))
        return members

    def record(self, members, shuffle=False):
        if shuffle:
            head = members[:1] if self.rid_field else []
            tail = members[len(head):]
            self.rng.shuffle(tail)
            members = head + tail
        return obj(members)

    def records(self):
        out = []
        fields = [f for f in self.schema if f["name"] != self.rid_field]
        for _ in range(5):
            out.append(self.record(self.base()))
        for f in fields:
            for v in self.edges(f):
                m = [x for x in self.base() if x[0] != f["name"]]
                out.append(self.record(m + [(f["name"], v)]))
            m = [x for x in self.base() if x[0] != f["name"]]
            out.append(self.record(m))  # left out
            m = self.base() + [(f["name"], self.valid(f))]
            out.append(self.record(m))  # twice, maybe once already
        # unknown members, and keys as JSON spells them
        b = self.base()
        out += [self.record(b + [("zzz", b"1")]),
                self.record(b + [("", b"null")]),
                self.record(b + [(fields[0]["name"].upper(), b"1")]),
                self.record(b + [("zzz", b'{"a":[1,{"b":2}]}')]),
                self.record(b + [(b'"\\ud83d\\ude00"', b"1")]),
                self.record(b + [(b'"\\ud800"', b"1")]),
                self.record([(js_escaped(k), v) for k, v in self.base()]),
                self.record(self.base(), shuffle=True),
                self.record([(k, v) for k, v in self.base()
                             if not self._nullable(k)]),
                # limits: members (unknown ones count), the record's bytes
                self.record(b + [("zz%d" % k, b"1") for k in range(12)]),
                self.record(b + [("zzz", js("x" * 700))])]
        out.append(b" " + self.record(self.base()).replace(b",", b" ,\t")
                   + b" ")
        # whitespace JSON has (CR before the newline, tab) and has not
        # (form feed, a byte order mark: RFC 8259 section 8.1)
        rec = self.record(self.base())
        out += [rec + b"\r", b"\t" + rec, b"{\x0c" + rec[1:],
                b"\xef\xbb\xbf" + rec]
        # records that are not objects, or not JSON
        out += [b"{}", b"[]", b"42", b"null", b'"x"', b"true",
                b"[" + self.record(self.base()) + b"]",
                self.record(self.base())[:-1] + b",}",
                self.record(self.base())[:-1] + b',"zzz":NaN}']
        # several edits at once
        for _ in range(RANDOM_PER):
            m = dict(self.base())
            for f in self.rng.sample(fields, min(len(fields),
                                                 self.rng.randint(2, 4))):
                if self.rng.random() < 0.15:
                    m.pop(f["name"], None)
                else:
                    m[f["name"]] = self.rng.choice(self.edges(f))
            out.append(self.record(list(m.items()),
                                   shuffle=self.rng.random() < 0.5))
        return out

    def _nullable(self, name):
        return any(f["name"] == name and f.get("nullable")
                   for f in self.schema)


# --------------------------------------------------------------------------
# the differences: ONE list, each with its reason; docs/tools.md "Where the
# schema and sluice differ" says the same

class Case:
    """One record judged twice."""

    def __init__(self, connector, index, raw, ajv, sluice, schema):
        self.connector = connector
        self.index = index
        self.raw = raw           # bytes as posted
        self.ajv = ajv           # {"valid": bool, "why": ...}
        self.sluice = sluice     # None (accepted) or {"field", "error"}
        self.schema = schema     # the published <connector>_record
        self.dup = False         # an object of it has a key twice
        try:
            self.value = json.loads(raw.decode("utf-8"),
                                    object_pairs_hook=self._pairs)
        except ValueError:
            self.value = None

    def _pairs(self, pairs):
        keys = [k for k, _ in pairs]
        self.dup |= len(set(keys)) != len(keys)
        return dict(pairs)

    @property
    def err(self):
        return self.sluice["error"] if self.sluice else ""

    def __repr__(self):
        return ("%s record %d: %s\n    ajv:    %s\n    sluice: %s"
                % (self.connector, self.index,
                   self.raw.decode("utf-8", "backslashreplace")[:400],
                   "valid" if self.ajv["valid"] else "invalid: " +
                   self.ajv["why"],
                   "accepted" if not self.sluice else
                   "rejected: %s: %s" % (self.sluice["field"],
                                         self.sluice["error"])))


def literal_in(err, prefix):
    m = re.match(re.escape(prefix) + r"(\S+)", err)
    return m.group(1) if m else None


def integral_fraction(c):
    """sluice: 'expected integer, got number 1.0' for a number with a
    fraction or exponent that is an integer as a value."""
    lit = literal_in(c.err, "expected integer, got number ")
    if lit is None or lit.endswith("..."):
        return False
    try:
        v = float(lit)
    except ValueError:
        return False
    return v == int(v) if abs(v) != float("inf") else False


def past_double_precision(c):
    """sluice compares integers exactly in 64 bits; ajv has doubles, in
    which integers past 2^53 round (2^63 is within [-2^63, 2^63 - 1])."""
    if re.fullmatch(r"integer out of range \(64-bit\)", c.err):
        return True
    m = re.fullmatch(r"(-?\d+) is (less than min|greater than max) "
                     r"\((-?\d+)\)", c.err)
    if not m:
        return False
    v, bound = int(m.group(1)), int(m.group(3))
    return abs(v) > 2 ** 53 and float(v) == float(bound)


DT_LOOSE = re.compile(
    r"\d{4}-\d\d-\d\d"
    r"(?P<sep>[Tt]|\s)\d\d:\d\d:\d\d(?P<frac>\.\d+)?"
    r"(?P<off>[Zz]|[+-]\d\d(?::?\d\d)?)$")


def loose_datetime(c):
    """ajv-formats' date-time takes a space (any whitespace) for T, any
    number of fraction digits, an offset without its colon or minutes;
    RFC 3339 section 5.6, which sluice follows, takes none of these."""
    m = re.match(r'invalid datetime "(.*)": ', c.err)
    if not m or c.ajv["valid"] is not True:
        return False
    v = value_at(c.value, c.sluice["field"])
    if not isinstance(v, str):
        return False
    g = DT_LOOSE.match(v)
    if not g:
        return False
    return (g["sep"] not in ("T", "t") or
            (g["frac"] is not None and len(g["frac"]) > 10) or
            (g["off"] not in ("Z", "z") and ":" not in g["off"]))


def leap_second_anytime(c):
    """sluice takes second 60 in any minute (RFC 3339's grammar); ajv-
    formats only at 23:59:60 UTC, when leap seconds are inserted."""
    if c.sluice is not None or c.ajv["valid"]:
        return False
    m = re.match(r'(/\S*) must match format "date-time"', c.ajv["why"])
    if not m:
        return False
    v = pointer_at(c.value, m.group(1))
    return isinstance(v, str) and re.match(
        r"\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:60", v) is not None


def lone_surrogate(c):
    """sluice's scanner refuses a \\uD800-\\uDFFF escape without its other
    half (it is no character: RFC 8259 section 8.2); JSON.parse keeps it."""
    return (c.err.startswith("malformed JSON") and "surrogate" in c.err
            and c.ajv["valid"] and has_lone_surrogate(c.value))


def has_lone_surrogate(v):
    """Python decodes a pair into one character and keeps a lone half."""
    if isinstance(v, dict):
        return any(map(has_lone_surrogate, list(v) + list(v.values())))
    if isinstance(v, list):
        return any(map(has_lone_surrogate, v))
    return isinstance(v, str) and re.search("[\ud800-\udfff]", v) is not None


def duplicate_member(c):
    """sluice rejects a member given twice; JSON.parse keeps the last one,
    so a JSON Schema validator never sees the first."""
    return c.err == "duplicate field" and c.ajv["valid"] and c.dup


def string_bytes(c):
    """limits.string_bytes bounds a string's bytes as received (escapes
    as written); maxLength counts code points, decoded."""
    return (re.fullmatch(r"string is \d+ bytes, more than "
                         r"limits.string_bytes \(\d+\)", c.err) is not None
            and c.ajv["valid"])


def record_bytes(c):
    """limits.record_bytes bounds the record's JSON text as received; no
    JSON Schema keyword measures text."""
    m = re.fullmatch(r"record is (\d+) bytes, more than "
                     r"limits.record_bytes \((\d+)\)", c.err)
    return (m is not None and c.ajv["valid"] and
            int(m.group(1)) == len(c.raw.strip()) > int(m.group(2)) ==
            c.schema["x-sluice-record-bytes"])


def nesting_depth(c):
    """limits.depth bounds the JSON nesting of the whole record (a json
    field's value included); past it the record is malformed JSON."""
    return (c.err.startswith("malformed JSON") and
            "nesting deeper than the depth limit" in c.err
            and c.ajv["valid"] and
            nesting(c.value) > c.schema["x-sluice-max-depth"])


def request_placeholder(c):
    """rest_users' URL and header placeholders: a value that cannot go in
    the request (an empty path segment, '.' or '..', a control character
    or more than 4096 bytes in a header) is refused at the intake."""
    return (c.connector == "rest_users" and c.ajv["valid"] and
            any(re.fullmatch(p, c.err) for p in PLACEHOLDER_ERRORS))


PLACEHOLDER_ERRORS = [
    r"is empty, but is a path segment of the URL",
    r'is "\.\.?", but a path segment of the URL cannot be "\." or "\.\."',
    r"has a control character \(CR, LF, tab, \.\.\.\), which cannot go "
    r'in header "X-Tenant"',
    r'makes header "X-Tenant" longer than 4096 bytes']


# (name, the reason, predicate on a Case whose verdicts differ)
DIFFERENCES = [
    ("integer written as a fraction or exponent",
     "JSON Schema's integer is a value (1.0 and 1e2 are integers); sluice's "
     "is a literal without fraction or exponent", integral_fraction),
    ("integers past 2^53",
     "ajv compares doubles; sluice compares int64 exactly",
     past_double_precision),
    ("date-time looser in ajv-formats",
     "space for T, more than 9 fraction digits, offset without colon",
     loose_datetime),
    ("leap second",
     "sluice takes :60 in any minute, ajv-formats at 23:59:60 UTC only",
     leap_second_anytime),
    ("lone surrogate escape",
     "malformed JSON to sluice, a string to JSON.parse", lone_surrogate),
    ("duplicate member",
     "sluice rejects it; JSON.parse keeps the last", duplicate_member),
    ("limits.string_bytes",
     "bytes as received, not code points", string_bytes),
    ("limits.record_bytes", "no keyword measures JSON text", record_bytes),
    ("limits.depth", "JSON nesting of the whole record", nesting_depth),
    ("placeholder values",
     "values that cannot build the request", request_placeholder),
]


# --------------------------------------------------------------------------
# paths into a decoded record

def value_at(v, path):
    """The value at sluice's field path ("addr.geo.lat", "lines[1].qty")."""
    for name, idx in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path or ""):
        try:
            v = v[int(idx)] if idx else v[name]
        except (KeyError, IndexError, TypeError):
            return None
    return v


def nesting(v):
    """Levels of objects and arrays in a decoded value."""
    if isinstance(v, dict):
        return 1 + max(map(nesting, v.values()), default=0)
    if isinstance(v, list):
        return 1 + max(map(nesting, v), default=0)
    return 0


def normalized(rec, fields):
    """A decoded record as sluice sends it: the schema's fields in order
    (nested ones too), a missing one null, unknown members left out."""
    def value(x, f):
        if x is None:
            return None
        if f["type"] == "object":
            return normalized(x, f["fields"])
        if f["type"] == "array":
            return [value(i, f["items"]) for i in x]
        return x
    return {f["name"]: value(rec.get(f["name"]), f) for f in fields}


def pointer_at(v, ptr):
    """The value at a JSON pointer ("/addr/geo/lat")."""
    for part in ptr.split("/")[1:]:
        part = part.replace("~1", "/").replace("~0", "~")
        try:
            v = v[int(part)] if isinstance(v, list) else v[part]
        except (KeyError, IndexError, TypeError, ValueError):
            return None
    return v


# --------------------------------------------------------------------------
# node and ajv

def node_and_prefix():
    """node and the prefix whose node_modules has ajv and ajv-formats
    ($SLUICE_NPM_PREFIX, as docs/testing.md says); skips the test without
    them."""
    node = shutil.which("node")
    prefix = os.environ.get("SLUICE_NPM_PREFIX", "/opt/sluice-npm")
    for pkg in ("ajv", "ajv-formats"):
        if not node or not os.path.isfile(os.path.join(
                prefix, "node_modules", pkg, "package.json")):
            raise unittest.SkipTest(
                "needs node and %s in %s/node_modules: run "
                "scripts/install-deps.sh" % (pkg, prefix))
    return node, prefix


def judge(doc_path, jobs, workdir):
    """ajv's verdicts: {connector: [verdict, ...]} for jobs, a list of
    (connector, [record bytes])."""
    node, prefix = node_and_prefix()
    args = [node, os.path.join(HERE, "ajv_judge.mjs"), prefix, doc_path]
    for name, recs in jobs:
        p = os.path.join(workdir, name + ".ndjson")
        with open(p, "wb") as f:
            f.write(b"\n".join(recs) + b"\n")
        args.append("%s=%s" % (name, p))
    p = subprocess.run(args, capture_output=True, timeout=120)
    if p.returncode != 0:
        raise AssertionError("ajv_judge.mjs exited %d:\n%s"
                             % (p.returncode, p.stderr.decode()))
    out = {name: [] for name, _ in jobs}
    for line in p.stdout.decode().splitlines():
        v = json.loads(line)
        out[v["c"]].append(v)
    for name, recs in jobs:
        assert len(out[name]) == len(recs), (name, len(out[name]), len(recs))
    return out


# --------------------------------------------------------------------------
# the test

def example_source(stem, dest_url):
    with open(os.path.join(SOURCE_DIR, "conf", "connectors",
                           stem + ".lua")) as f:
        src = f.read()
    assert "transform" not in src, "%s has a transform" % stem
    # every URL it names (the API and any token endpoint) goes local
    return re.sub(r'"https?://[^/"]+', '"' + dest_url, src)


class OpenApiDiffTest(SluiceTestCase):

    def setUp(self):
        self.dest = self.start_destination()
        conns = {
            "types": connector_lua("types", self.dest.url + "/types",
                                   schema=lua_schema(TYPES_SCHEMA),
                                   unknown_fields="reject",
                                   batch={"max_delay_ms": 20}),
            "flat": connector_lua("flat", self.dest.url + "/flat",
                                  schema=lua_schema(FLAT_SCHEMA),
                                  extra={"limits": FLAT_LIMITS}),
            "loose": connector_lua("loose", self.dest.url + "/loose",
                                   schema=LOOSE_SCHEMA, unknown_fields="drop",
                                   extra={"limits": LOOSE_LIMITS}),
        }
        for stem in EXAMPLES:
            conns[stem] = example_source(stem, self.dest.url)
        self.sl = self.start_sluice(conns)
        self.work = tempfile.mkdtemp(prefix="sluice-diff-")
        self.addCleanup(shutil.rmtree, self.work, True)

    def published(self):
        """`sluice openapi -c FILE`, parsed, and the same from the running
        gateway's GET /openapi.json."""
        rc, out, err = self.sl.cli("openapi")
        self.assertEqual(rc, 0, err)
        doc = json.loads(out)
        st, served, _ = self.sl.get("/openapi.json")
        self.assertEqual(st, 200, self.sl.last_raw[:300])
        self.assertEqual(served, doc, "GET /openapi.json differs from "
                         "`sluice openapi`")
        path = os.path.join(self.work, "openapi.json")
        with open(path, "w") as f:
            f.write(out)
        return doc, path

    def models(self):
        """(connector, schema model, rid field) for every connector: ours
        as written, the examples' from GET /v1/connectors/NAME."""
        out = [("types", TYPES_SCHEMA, "rid"), ("flat", FLAT_SCHEMA, "rid"),
               ("loose", LOOSE_SCHEMA, "rid")]
        for stem in EXAMPLES:
            with open(self.sl.connector_path(stem)) as f:
                name = re.search(r'name = "([^"]+)"', f.read()).group(1)
            fields = [{"name": f["name"], "type": f["type"],
                       "nullable": f["nullable"]}
                      for f in self.sl.connector(name)["schema"]]
            out.append((name, fields, None))
        return out

    def dry_run(self, name, recs):
        """sluice's verdicts for recs: None (accepted) or the rejection."""
        verdicts = [None] * len(recs)
        for at in range(0, len(recs), CHUNK):
            body = b"\n".join(recs[at:at + CHUNK]) + b"\n"
            st, ans, h = self.sl.request(
                "POST", "/v1/connectors/%s/records?dry_run=true" % name,
                body=body, headers={"Content-Type": "application/x-ndjson"})
            self.assertIn(st, (200, 422), self.sl.last_raw[:500])
            self.assertEqual(h.get("Sluice-Dry-Run"), "true")
            n = min(CHUNK, len(recs) - at)
            self.assertEqual(ans["accepted"] + len(ans["rejected"]) +
                             ans.get("dropped", 0), n, ans)
            for r in ans["rejected"]:
                verdicts[at + r["index"]] = r
        return verdicts

    def test_schema_and_intake_agree(self):
        doc, doc_path = self.published()
        models = self.models()
        jobs = []
        for i, (name, schema, rid) in enumerate(models):
            jobs.append((name, Gen(schema, SEED + i, rid).records()))
        total = sum(len(r) for _, r in jobs)
        self.assertGreaterEqual(total, MIN_RECORDS)
        ajv = judge(doc_path, jobs, self.work)

        agree = valid = 0
        seen = {d[0]: 0 for d in DIFFERENCES}
        unexplained = []
        for name, recs in jobs:
            sluice = self.dry_run(name, recs)
            for i, raw in enumerate(recs):
                c = Case(name, i, raw, ajv[name][i], sluice[i],
                         doc["components"]["schemas"][name + "_record"])
                if c.ajv["valid"] == (c.sluice is None):
                    agree += 1
                    valid += c.ajv["valid"]
                    continue
                hit = [d for d in DIFFERENCES if d[2](c)]
                if hit:
                    seen[hit[0][0]] += 1
                else:
                    unexplained.append(c)
            self.same_as_array(name, recs, sluice)
        self.assertEqual(self.dest.requests(), [], "a dry run delivered")

        print("\n%d records: %d agree (%d valid, %d invalid), %d differ by "
              "a listed difference, %d unexplained"
              % (total, agree, valid, agree - valid, sum(seen.values()),
                 len(unexplained)))
        for d, n in seen.items():
            print("  %5d  %s" % (n, d))
        self.assertEqual(unexplained, [], "%d records judged differently, "
                         "not by a listed difference:\n%s"
                         % (len(unexplained),
                            "\n".join(map(repr, unexplained[:30]))))
        self.assertEqual([d for d, n in seen.items() if n == 0], [],
                         "listed differences that no record shows")
        self.assertGreater(valid, total // 10)
        self.assertGreater(agree - valid, total // 10)

        self.real_post("types", TYPES_SCHEMA, jobs[0][1][:CHUNK])
        self.real_post("flat", FLAT_SCHEMA, jobs[1][1][:CHUNK])

    def same_as_array(self, name, recs, verdicts):
        """The records that are JSON to sluice, nested well below the
        limits (a body's array is one more level), posted as JSON arrays:
        the same verdicts as in NDJSON."""
        keep = [i for i, (r, v) in enumerate(zip(recs, verdicts))
                if not (v and v["error"].startswith("malformed JSON"))
                and nesting(json.loads(r)) < 5]
        for at in range(0, len(keep), CHUNK):
            part = keep[at:at + CHUNK]
            body = b"[" + b",".join(recs[i] for i in part) + b"]"
            st, ans, _ = self.sl.request(
                "POST", "/v1/connectors/%s/records?dry_run=1" % name,
                body=body, headers={"Content-Type": "application/json"})
            self.assertIn(st, (200, 422), self.sl.last_raw[:500])
            got = {part[r["index"]]: r for r in ans["rejected"]}
            for i in part:
                self.assertEqual(got.get(i), verdicts[i] and dict(
                    verdicts[i], index=got.get(i, {}).get("index")),
                    "%s record %d: %r" % (name, i, recs[i][:300]))

    def real_post(self, name, schema, recs):
        """One chunk posted for real: the same answer as its dry run, and
        exactly the accepted records delivered."""
        body = b"\n".join(recs) + b"\n"
        h = {"Content-Type": "application/x-ndjson"}
        path = "/v1/connectors/%s/records" % name
        st_dry, _, _ = self.sl.request("POST", path + "?dry_run=true",
                                       body=body, headers=h)
        dry = self.sl.last_raw
        st, ans, hdrs = self.sl.request("POST", path, body=body, headers=h)
        self.assertEqual((st, self.sl.last_raw), (st_dry, dry))
        self.assertIsNone(hdrs.get("Sluice-Dry-Run"))
        rejected = {r["index"] for r in ans["rejected"]}
        # what the destination must see: each accepted record with every
        # field, in schema order at every level, missing ones as null
        want = sorted(json.dumps(normalized(json.loads(r), schema))
                      for i, r in enumerate(recs) if i not in rejected)
        self.assertEqual(len(want), ans["accepted"])
        self.assertGreater(len(want), 0)
        self.assertGreater(len(rejected), 0)

        def delivered():
            return [r for q in self.dest.requests(ok_only=True)
                    if q.path == "/" + name for r in q.records()]
        wait_until(lambda: len(delivered()) >= len(want), 20,
                   msg=lambda: "%d records of %s delivered (have %d)"
                   % (len(want), name, len(delivered())))
        self.sl.wait_drained(name, len(want))
        self.assertEqual(sorted(json.dumps(r) for r in delivered()), want)


if __name__ == "__main__":
    unittest.main(verbosity=2)
