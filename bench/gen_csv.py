#!/usr/bin/env python3
"""Write the `sluice send` benchmark's input: N rows as CSV (Python's csv
module, a header row, CRLF line ends) and the same records as NDJSON.

The fields are the bench connector's (bench/benchlib.py connector): id
integer, email string, name string, amount number|null (an empty cell in
the CSV), active boolean (true/false), created_at datetime. Rows are about
150 bytes of CSV; names carry non-ASCII UTF-8, and about one in twenty a
comma or a double quote (quoted, "" escaped). Every row is valid. The
output is deterministic for a given --seed.

usage: gen_csv.py --rows 1000000 [--seed 1] --csv OUT.csv --ndjson OUT.ndjson
"""
import argparse
import csv
import json
import random

# the names and domains of the HTTP bench's records (same directory)
from gen_records import DOMAINS, FIRST, LAST

ODD = [", Jr.", " \"the elder\"", ", PhD"]
FIELDS = ["id", "email", "name", "amount", "active", "created_at"]


def records(n, seed):
    rng = random.Random(seed)
    filler = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz ")
                     for _ in range(4096))
    for i in range(n):
        rid = 100000 + i
        first, last = rng.choice(FIRST), rng.choice(LAST)
        name = "%s %s" % (first, last)
        if rng.random() < 0.05:
            name += rng.choice(ODD)
        at = rng.randrange(4000)
        name += " " + filler[at:at + rng.randint(10, 60)].strip()
        amount = None if rng.random() < 0.1 else round(rng.uniform(0, 99999), 2)
        yield {
            "id": rid,
            "email": "user%d@%s" % (rid, rng.choice(DOMAINS)),
            "name": name,
            "amount": amount,
            "active": rng.random() < 0.7,
            "created_at": "2026-%02d-%02dT%02d:%02d:%02d.%03dZ" % (
                rng.randint(1, 12), rng.randint(1, 28), rng.randrange(24),
                rng.randrange(60), rng.randrange(60), rng.randrange(1000)),
        }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1000000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--csv", required=True)
    ap.add_argument("--ndjson", required=True)
    a = ap.parse_args()
    with open(a.csv, "w", newline="", encoding="utf-8") as fc, \
            open(a.ndjson, "w", encoding="utf-8") as fn:
        w = csv.writer(fc)  # the excel dialect: CRLF, minimal quoting
        w.writerow(FIELDS)
        for r in records(a.rows, a.seed):
            w.writerow([r["id"], r["email"], r["name"],
                        "" if r["amount"] is None else repr(r["amount"]),
                        "true" if r["active"] else "false", r["created_at"]])
            fn.write(json.dumps(r, ensure_ascii=False,
                                separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
