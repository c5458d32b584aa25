#!/usr/bin/env python3
"""Write the benchmark request body: one JSON array of N records.

Each record has exactly the six fields of the bench connector (id integer,
email string, name string, amount number|null, active boolean, created_at
datetime), about 200 bytes long (name padded to a per-record target between
180 and 220 bytes, average 200). Values vary from record to record; some
names carry non-ASCII UTF-8 and about one amount in ten is null. The output
is deterministic for a given --seed.

With --ndjson the same records are written one per line (each line ending
in a newline) instead of as an array: the TCP intake's input (bench.sh --tcp).

usage: gen_records.py [--count 100] [--seed 1] [--size 200] [--ndjson] > body.json
"""
import argparse
import json
import random
import sys
import unicodedata

FIRST = ["Ada", "Bruno", "Chloé", "Dmitri", "Elif", "Fatima", "Grzegorz",
         "Hana", "Ingrid", "José", "Kwame", "Lena", "Mateo", "Nobuko",
         "Oluwaseun", "Priya", "Quentin", "Rosalía", "Søren", "Tomasz"]
LAST = ["Okafor", "Lindqvist", "Nakamura", "Fernández", "Kowalczyk",
        "Haddad", "Schmidt", "Moreau", "Øberg", "Papadopoulos", "Singh",
        "Van der Berg", "Yılmaz", "Zhang", "O'Brien", "Dubois"]
DOMAINS = ["example.com", "example.org", "mail.example.net",
           "customers.example.co.uk", "corp.example.io"]
FILLER = "abcdefghijklmnopqrstuvwxyz"


def record(rng, i, target):
    rid = 100000 + i * 7919 + rng.randrange(7919)
    first, last = rng.choice(FIRST), rng.choice(LAST)
    local = "%s.%s.%d" % (first, last.replace(" ", "").replace("'", ""), rid)
    local = unicodedata.normalize("NFKD", local.lower())
    local = local.encode("ascii", "ignore").decode()
    amount = None if rng.random() < 0.1 else round(rng.uniform(0, 99999), 2)
    ts = "2026-%02d-%02dT%02d:%02d:%02d.%03dZ" % (
        rng.randint(1, 12), rng.randint(1, 28), rng.randrange(24),
        rng.randrange(60), rng.randrange(60), rng.randrange(1000))
    rec = {
        "id": rid,
        "email": "%s@%s" % (local, rng.choice(DOMAINS)),
        "name": "%s %s" % (first, last),
        "amount": amount,
        "active": rng.random() < 0.7,
        "created_at": ts,
    }
    # Pad the name (ASCII filler, counted in bytes) up to the target size.
    size = len(encode(rec))
    if size < target:
        pad = target - size - 1
        rec["name"] += " " + "".join(rng.choice(FILLER) for _ in range(max(pad, 0)))
    return rec


def encode(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--size", type=int, default=200,
                    help="average record size in bytes")
    ap.add_argument("--ndjson", action="store_true",
                    help="one record per line instead of a JSON array")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    recs = [record(rng, i, a.size + rng.randint(-20, 20)) for i in range(a.count)]
    if a.ndjson:
        sys.stdout.buffer.write(b"".join(encode(r) + b"\n" for r in recs))
    else:
        sys.stdout.buffer.write(encode(recs))


if __name__ == "__main__":
    main()
