// openapi_check.mjs: the real validators of test_openapi.py.
//
//   node openapi_check.mjs NODE_MODULES_PARENT validate DOC.json...
//     each document through @apidevtools/swagger-parser's validate()
//     (OpenAPI 3.1 structure, every $ref resolved), and every schema of
//     components.schemas compiled by ajv (JSON Schema 2020-12, strict);
//     prints one line per document: {"doc":..., "ok":true} or
//     {"doc":..., "ok":false, "why":"..."}
//   node openapi_check.mjs NODE_MODULES_PARENT answers DOC.json CASES.json
//     CASES.json is a list of {"path", "status", "body"} (body: the answer
//     as parsed JSON): each is judged by ajv against the schema of the
//     application/json content of that status's response (or "default")
//     of POST path in DOC; prints one line per case:
//     {"i":0, "ok":true, "response":"accepted"} or {"i":0,"ok":false,...}
//
// NODE_MODULES_PARENT is the directory whose node_modules holds the
// packages (SLUICE_NPM_PREFIX, see docs/testing.md). Exit 0 when every
// document or case was judged (whatever the verdicts), 2 on a usage error.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const [prefix, mode, ...args] = process.argv.slice(2);
function usage() {
  process.stderr.write("usage: node openapi_check.mjs NODE_MODULES_PARENT " +
                       "validate DOC... | answers DOC CASES\n");
  process.exit(2);
}
if (!prefix || !mode) usage();
const require = createRequire(join(prefix, "package.json"));
const Ajv2020 = require("ajv/dist/2020").default;
const addFormats = require("ajv-formats").default;

const BASE = "https://sluice.invalid/openapi.json";
// OpenAPI's members around the schemas: annotations for ajv
const OPENAPI_KEYWORDS = [
  "openapi", "info", "jsonSchemaDialect", "servers", "paths", "webhooks",
  "components", "security", "tags", "externalDocs", "discriminator", "xml",
  "example",
];

function xKeys(v, out) {
  if (Array.isArray(v)) v.forEach((x) => xKeys(x, out));
  else if (v && typeof v === "object")
    for (const [k, x] of Object.entries(v)) {
      if (k.startsWith("x-")) out.add(k);
      xKeys(x, out);
    }
  return out;
}

function ajvFor(doc) {
  const ajv = new Ajv2020({ strict: true, allowUnionTypes: true,
                            allErrors: true });
  addFormats(ajv, { mode: "full", formats: ["date", "date-time"] });
  for (const k of OPENAPI_KEYWORDS) ajv.addKeyword({ keyword: k });
  for (const k of xKeys(doc, new Set())) ajv.addKeyword({ keyword: k });
  ajv.addSchema({ ...doc, $id: BASE });
  return ajv;
}

function compileAll(doc) {
  const ajv = ajvFor(doc);
  for (const name of Object.keys(doc.components?.schemas ?? {}))
    ajv.compile({ $ref: BASE + "#/components/schemas/" + name });
}

function resolve(doc, obj) {
  while (obj && obj.$ref) {
    const parts = obj.$ref.replace(/^#\//, "").split("/")
      .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
    obj = parts.reduce((o, p) => (o ? o[p] : undefined), doc);
  }
  return obj;
}

async function validate(files) {
  const SwaggerParser = require("@apidevtools/swagger-parser");
  for (const f of files) {
    try {
      const doc = JSON.parse(readFileSync(f, "utf8"));
      await SwaggerParser.validate(structuredClone(doc));
      compileAll(doc);
      console.log(JSON.stringify({ doc: f, ok: true }));
    } catch (e) {
      console.log(JSON.stringify({ doc: f, ok: false, why: String(e.message) }));
    }
  }
}

function answers(docFile, casesFile) {
  const doc = JSON.parse(readFileSync(docFile, "utf8"));
  const cases = JSON.parse(readFileSync(casesFile, "utf8"));
  const ajv = ajvFor(doc);
  cases.forEach((c, i) => {
    const op = doc.paths?.[c.path]?.post;
    if (!op) {
      console.log(JSON.stringify({ i, ok: false, why: "no POST " + c.path }));
      return;
    }
    const ref = op.responses[String(c.status)] ?? op.responses.default;
    const name = (ref?.$ref ?? "").split("/").pop();
    const resp = resolve(doc, ref);
    const schema = resp?.content?.["application/json"]?.schema;
    if (!schema) {
      console.log(JSON.stringify({ i, ok: false, why: "no JSON schema for " +
                                   c.status }));
      return;
    }
    const target = schema.$ref ? { $ref: BASE + schema.$ref } : schema;
    const check = ajv.compile(target);
    const ok = check(c.body);
    console.log(JSON.stringify({ i, ok, response: name,
                                 why: ok ? undefined : ajv.errorsText(check.errors) }));
  });
}

if (mode === "validate" && args.length > 0) await validate(args);
else if (mode === "answers" && args.length === 2) answers(args[0], args[1]);
else usage();
