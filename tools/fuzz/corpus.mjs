// The real inputs the fuzzer mutates: the kernel-oracle captures (../shared/oracle-cases when the
// checkout sits beside it, else the repository's own), the lspci corpus, examples/ and fixtures.

import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(HERE, "../..");
/** shared inputs beside the checkout (not in a fresh clone: then the repository's own are used) */
const SHARED = process.env.IOMMU_ATLAS_SHARED ?? resolve(REPO, "../shared");

const dist = (p) => import(join(REPO, "dist", p));

/** every file below `dir` whose name passes `keep`, as bytes, in sorted path order */
function files(dir, keep) {
  if (!existsSync(dir)) return [];
  const out = [];
  const walk = (d) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (keep(name)) out.push({ path: p, bytes: new Uint8Array(readFileSync(p)) });
    }
  };
  walk(dir);
  return out;
}

/** the corpus, read once per process */
export async function loadCorpus() {
  const { decodeArchive } = await dist("cli/sysfs/archive.js");
  const archives = [
    ...files(join(SHARED, "oracle-cases"), (n) => n.endsWith(".tar.gz")),
    ...files(join(REPO, "examples"), (n) => n.endsWith(".tar.gz")),
    ...files(join(REPO, "src"), (n) => n.endsWith(".tar.gz")),
  ];
  const configs = [];
  const dmar = [...files(join(REPO, "src/core/acpi/fixtures"), (n) => n.endsWith(".DMAR"))];
  const ivrs = [...files(join(REPO, "src/core/acpi/fixtures"), (n) => n.endsWith(".IVRS"))];
  const excerpts = [];
  for (const a of archives) {
    let tree;
    try {
      tree = decodeArchive(a.bytes, a.path);
    } catch {
      continue;
    }
    for (const [key, e] of tree) {
      if (e.kind !== "file") continue;
      if (key.endsWith("/config")) configs.push({ path: `${a.path}:${key}`, bytes: e.data });
      else if (key.endsWith("/DMAR")) dmar.push({ path: `${a.path}:${key}`, bytes: e.data });
      else if (key.endsWith("/IVRS")) ivrs.push({ path: `${a.path}:${key}`, bytes: e.data });
      else if (key.endsWith("/resource0.excerpt")) excerpts.push({ path: `${a.path}:${key}`, bytes: e.data });
    }
  }
  const text = (n) => n.endsWith(".txt");
  const yaml = (n) => n.endsWith(".yaml") || n.endsWith(".yml");
  const lspci = [...files(join(SHARED, "corpus"), text), ...files(join(REPO, "src/core/lspci/fixtures"), text)];
  return {
    archives,
    configs: dedupe(configs),
    dmar: dedupe(dmar),
    ivrs: dedupe(ivrs),
    excerpts: dedupe(excerpts),
    lspci,
    designs: files(join(REPO, "examples/designs"), yaml),
    plans: files(join(REPO, "examples/plans"), yaml),
    scenarios: files(join(REPO, "examples/scenarios"), yaml),
    faults: files(join(REPO, "src/core/faults/fixtures"), text),
  };
}

function dedupe(list) {
  const seen = new Set();
  return list.filter((f) => {
    const k = Buffer.from(f.bytes).toString("base64");
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
