// ajv_judge.mjs: the independent judge of test_openapi_diff.py. Reads an
// OpenAPI document and, for each job, an NDJSON file of records, and prints
// one verdict per record, judged by ajv (JSON Schema 2020-12, strict mode,
// ajv-formats for date and date-time) against the document's
// #/components/schemas/<connector>_record as published.
//
//   node ajv_judge.mjs NODE_MODULES_PARENT OPENAPI.json CONNECTOR=FILE...
//
// NODE_MODULES_PARENT is the directory whose node_modules holds ajv and
// ajv-formats. Output, one line per record of each file, in order:
//   {"c":"types","i":0,"valid":true}
//   {"c":"types","i":1,"valid":false,"why":"/i must be integer"}
// A line that is not JSON (RFC 8259: UTF-8, JSON.parse's grammar) is
// invalid with why "not JSON: ...": no schema can accept it.
// Exit 0 when every job was judged, 2 on a usage error or a document ajv
// cannot compile (the reason on stderr).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const [prefix, docPath, ...jobs] = process.argv.slice(2);
if (!prefix || !docPath || jobs.length === 0) {
  process.stderr.write("usage: node ajv_judge.mjs NODE_MODULES_PARENT " +
                       "OPENAPI.json CONNECTOR=FILE...\n");
  process.exit(2);
}
const require = createRequire(join(prefix, "package.json"));
const Ajv2020 = require("ajv/dist/2020").default;
const addFormats = require("ajv-formats").default;

// The document's own base, so that its "#/components/schemas/..." refs
// resolve inside it as written.
const BASE = "https://sluice.invalid/openapi.json";

// OpenAPI's own members around the schemas, and the keywords an OpenAPI
// 3.1 Schema Object adds to JSON Schema: annotations for ajv. Everything
// else stays under strict mode (unknown keywords, formats, union types
// other than nullability, required names not in properties).
const OPENAPI_KEYWORDS = [
  "openapi", "info", "jsonSchemaDialect", "servers", "paths", "webhooks",
  "components", "security", "tags", "externalDocs",
  "discriminator", "xml", "example",
];

function fail(msg) {
  process.stderr.write("ajv_judge: " + msg + "\n");
  process.exit(2);
}

const ajv = new Ajv2020({
  strict: true,
  allowUnionTypes: true, // ["integer", "null"]: how 2020-12 says nullable
  allErrors: false,
});
addFormats(ajv, { mode: "full", formats: ["date", "date-time"] });
for (const k of OPENAPI_KEYWORDS) ajv.addKeyword({ keyword: k });
// extensions (x-...) are annotations in OpenAPI; strict mode would refuse
// them, so each one the document uses is declared
const doc = JSON.parse(readFileSync(docPath, "utf8"));
const xkeys = new Set();
(function walk(v) {
  if (Array.isArray(v)) v.forEach(walk);
  else if (v && typeof v === "object")
    for (const [k, x] of Object.entries(v)) {
      if (k.startsWith("x-")) xkeys.add(k);
      walk(x);
    }
})(doc.components ?? {});
for (const k of xkeys) ajv.addKeyword({ keyword: k });

try {
  ajv.addSchema({ ...doc, $id: BASE });
} catch (e) {
  fail("the document does not load: " + e.message);
}

// fatal: invalid UTF-8 is not JSON text; ignoreBOM: a byte order mark is
// kept, for JSON.parse to refuse as sluice does (RFC 8259 section 8.1)
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const out = [];
for (const job of jobs) {
  const eq = job.indexOf("=");
  if (eq <= 0) fail("a job is CONNECTOR=FILE, not " + JSON.stringify(job));
  const name = job.slice(0, eq);
  const ref = BASE + "#/components/schemas/" + name + "_record";
  let validate;
  try {
    validate = ajv.getSchema(ref);
  } catch (e) {
    fail(ref + " does not compile: " + e.message);
  }
  if (!validate) fail("no schema " + ref);
  const bytes = readFileSync(job.slice(eq + 1));
  let start = 0;
  for (let i = 0; start < bytes.length; i++) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    const line = bytes.subarray(start, end);
    start = end + 1;
    let verdict;
    try {
      const value = JSON.parse(utf8.decode(line));
      if (validate(value)) {
        verdict = { c: name, i, valid: true };
      } else {
        const e = validate.errors[0];
        verdict = { c: name, i, valid: false,
                    why: (e.instancePath || "/") + " " + e.message };
      }
    } catch (e) {
      verdict = { c: name, i, valid: false, why: "not JSON: " + e.message };
    }
    out.push(JSON.stringify(verdict));
  }
}
process.stdout.write(out.join("\n") + "\n");
