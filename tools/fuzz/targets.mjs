// The readers the fuzzer feeds, each as {name, generate(rng) → bytes, check(bytes) → "model" | "error"}.
// check runs the same code the CLI runs for that input kind and throws a FuzzFailure when the
// reader crashes or answers with something that is neither a model nor one clear line.

import { join } from "node:path";
import fc from "fast-check";
import { stringify } from "yaml";
import { REPO, loadCorpus } from "./corpus.mjs";
import { Rng, byteMutations, mutate, textMutations, toBytes, toText, yamlMutations } from "./mutate.mjs";

const dist = (p) => import(join(REPO, "dist", p));

const [core, acpi, switchtec, archive, load, planParse, planCheck, scenario, simulation, excerptMod, errors, cliErrors, lspciMessages, synth, faults, faultJson, faultCmd, limits] = await Promise.all([
  dist("core/index.js"),
  dist("core/acpi/index.js"),
  dist("core/switchtec/index.js"),
  dist("cli/sysfs/archive.js"),
  dist("cli/load.js"),
  dist("core/plan/parse.js"),
  dist("core/plan/check.js"),
  dist("core/sim/parse-scenario.js"),
  dist("core/sim/simulation.js"),
  dist("core/excerpt.js"),
  dist("cli/sysfs/errors.js"),
  dist("cli/errors.js"),
  dist("core/lspci/messages.js"),
  dist("core/design/synth-config.js"),
  dist("core/faults/parse.js"),
  dist("core/faults/to-json.js"),
  dist("cli/commands/fault.js"),
  dist("core/limits.js"),
]);

const fromInput = await dist("core/sources/from-input.js");
/** the web page's shared-link and input reading, built for Node (vite build --mode headless) */
const page = await import(join(REPO, "dist/web-headless/headless.js"));

/** the CLI's reading of a source file's bytes (core's reader; its one-line message thrown as the CLI throws it) */
function snapshotFromBytes(bytes, file) {
  const r = fromInput.snapshotFromBytes(bytes, file);
  if (!r.ok) throw new cliErrors.InputError(r.message);
  return r;
}

/** the CLI's one line for a YAML input's problems */
function yamlError(file, problems, hint) {
  return new cliErrors.InputError(fromInput.yamlProblemText(file, problems, hint));
}

/** a reader's answer that breaks the contract */
export class FuzzFailure extends Error {
  name = "FuzzFailure";
}

/** the longest error line a reader may give (the CLI cuts at 1000 as a last resort) */
const MAX_LINE = 600;
const FILE = "input";
/** a line of a model's prose (a cause, a note) may be longer than an error line */
const MAX_MODEL_LINE = 1000;

/** one printable line that names the input, a place, what is wrong and what to do */
export function checkErrorLine(line, file = FILE) {
  if (typeof line !== "string" || line.length === 0) throw new FuzzFailure(`error message is ${JSON.stringify(line)}`);
  if (/[\n\r]/.test(line)) throw new FuzzFailure(`error message spans lines: ${JSON.stringify(line.slice(0, 300))}`);
  if (excerptMod.escapeText(line) !== line) throw new FuzzFailure(`error message holds unescaped control or format characters: ${JSON.stringify(line.slice(0, 300))}`);
  if (line.length > MAX_LINE) throw new FuzzFailure(`error message is ${line.length} characters long: ${JSON.stringify(line.slice(0, 200))}…`);
  if (!line.startsWith(`${file}:`)) throw new FuzzFailure(`error message does not start with the file name: ${JSON.stringify(line.slice(0, 300))}`);
  const rest = line.slice(file.length + 1);
  if (!/^(\d+: | offset 0x[0-9a-f]+: | )\S/.test(rest)) throw new FuzzFailure(`error message has no place (file:line or file: offset 0x…): ${JSON.stringify(line.slice(0, 300))}`);
  if (!/; |\(see | — /.test(rest)) throw new FuzzFailure(`error message does not say what to do: ${JSON.stringify(line.slice(0, 300))}`);
}

/** a message that is part of a model (issue, warning, note): one printable line of sane length */
function checkMessage(text, what) {
  if (typeof text !== "string") throw new FuzzFailure(`${what} is not text`);
  if (/[\n\r]/.test(text) || excerptMod.escapeText(text) !== text) throw new FuzzFailure(`${what} is not one printable line: ${JSON.stringify(text.slice(0, 300))}`);
  if (text.length > MAX_MODEL_LINE) throw new FuzzFailure(`${what} is ${text.length} characters long`);
}

/** runs `fn`; an InputError/SourceError becomes "error" (its line checked), anything else thrown is a crash */
function cliPath(fn, file = FILE) {
  try {
    fn();
    return "model";
  } catch (err) {
    if (err instanceof FuzzFailure) throw err;
    if (err instanceof cliErrors.InputError || err instanceof errors.SourceError) {
      checkErrorLine(err.message, file);
      return "error";
    }
    throw err;
  }
}

/** the prediction a model must survive: groups, aliases and their messages */
function exercise(snapshot) {
  const p = core.predict(snapshot);
  for (const issue of p.topology?.issues ?? []) checkMessage(core.formatTopologyIssue(issue), "topology issue");
  return p;
}

const corpus = await loadCorpus();
const bytesOf = (list) => list.map((f) => f.bytes);

/** fast-check values from (seed, index): the arbitraries' own shrink-free generation */
function sample(arb, rng) {
  return fc.sample(arb, { seed: rng.u32() | 0, numRuns: 1 })[0];
}

const yamlValue = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: "small" }, fc.string({ maxLength: 20 }), fc.integer(), fc.boolean(), fc.constant(null), fc.double(), tie("list"), tie("map")),
  list: fc.array(tie("value"), { maxLength: 5 }),
  map: fc.dictionary(fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom("devices", "bdf", "type", "id", "acs", "bus", "hosts", "guests", "transactions", "from", "address", "select", "sriov", "name", "source", "ntb", "kernel", "class")), tie("value"), { maxKeys: 6 }),
})).value;

const DEVICE_TYPES = ["host-bridge", "root-port", "upstream-port", "downstream-port", "endpoint", "pci-bridge", "pcie-pci-bridge", "rciep", "root-complex-event-collector", "switchtec", "bogus"];
const hex2 = (rng, n) => rng.int(n).toString(16).padStart(2, "0");

/** a random but plausible design: a device list the schema mostly accepts */
function randomDesign(rng) {
  const n = 1 + rng.skewed(40);
  const devices = [];
  for (let i = 0; i < n; i++) {
    const d = { bdf: `${hex2(rng, rng.chance(0.8) ? 8 : 256)}:${hex2(rng, 32)}.${rng.int(8)}`, type: rng.pick(DEVICE_TYPES) };
    if (rng.chance(0.7)) d.id = `${hex2(rng, 256)}${hex2(rng, 256)}:${hex2(rng, 256)}${hex2(rng, 256)}`;
    if (rng.chance(0.4)) d.bus = rng.int(rng.chance(0.9) ? 16 : 300);
    if (rng.chance(0.3)) d.acs = rng.chance(0.5) ? rng.chance(0.5) : rng.pick(["RR CR UF", "SV", "+RR-CR", 7]);
    if (rng.chance(0.2)) d.class = rng.pick(["0300", "0200", "0108", "0604", "zz", 3]);
    if (rng.chance(0.2)) d.multifunction = rng.chance(0.5);
    if (rng.chance(0.1)) d.sriov = { total_vfs: rng.int(300), num_vfs: rng.int(300), offset: rng.int(300), stride: rng.int(8) };
    if (rng.chance(0.05)) d[rng.pick(["quirk", "aliases", "subsystem", "ari", "pasid"])] = rng.pick([true, "x", 1, []]);
    devices.push(d);
  }
  const design = { schema: "iommu-atlas/design@1", devices };
  if (rng.chance(0.3)) design.kernel = rng.pick(["6.1", "5.4", "4.19", "6.8", "99", ""]);
  return toBytes(stringify(design, { flow: rng.chance(0.3) }));
}

const EXAMPLE_BDFS = ["0000:00:00.0", "0000:00:01.0", "0000:01:00.0", "0000:02:01.0", "0000:02:02.0", "0000:00:1f.0", "10de:1b80", "class:0200", "8086:*", "garbage"];

function randomPlan(rng) {
  const plan = {};
  if (rng.chance(0.8)) {
    plan.guests = Array.from({ length: rng.skewed(6) }, (_, i) => ({
      name: rng.chance(0.9) ? `vm${i % 3}` : rng.pick(["host", "", "a b", "x".repeat(300)]),
      devices: Array.from({ length: rng.skewed(5) }, () => (rng.chance(0.8) ? rng.pick(EXAMPLE_BDFS) : { select: rng.pick(EXAMPLE_BDFS), driver: rng.pick(["vfio-pci", "bad driver"]) })),
    }));
  }
  if (rng.chance(0.3)) plan.host = [rng.pick(EXAMPLE_BDFS)];
  if (rng.chance(0.2)) plan.sriov = { [rng.pick(EXAMPLE_BDFS)]: rng.pick(["4", "65536", "x", 7]) };
  if (rng.chance(0.2)) plan.alias_requests = [{ guest: "vm0", device: rng.pick(EXAMPLE_BDFS), requester_ids: [rng.pick(["02:00.0", "04.2", "zz"])] }];
  return toBytes(stringify(plan));
}

/** an input drawn from `seeds` (mutated 1..4 times), else from `fresh` */
function drawn(rng, seeds, sets, fresh, pFresh = 0.2) {
  const base = fresh && (seeds.length === 0 || rng.chance(pFresh)) ? fresh(rng) : seeds.length ? rng.pick(seeds) : new Uint8Array();
  if (rng.chance(0.05)) return base; // the untouched input: a model is expected most of the time
  return mutate(rng, base, sets, seeds).bytes;
}

/** a window of a long text: lines [s, s+n) */
function window(rng, bytes, maxLines) {
  const lines = toText(bytes).split("\n");
  if (lines.length <= maxLines || rng.chance(0.1)) return bytes;
  const n = 1 + rng.int(maxLines);
  const s = rng.int(lines.length - n);
  return toBytes(lines.slice(s, s + n).join("\n"));
}

// ---------------------------------------------------------------- capture archives

const gz = await import("node:zlib");
/** decompression bombs and hostile tar layouts, built once */
export const bombs = (() => {
  const tarHeader = (name, size, type = "0", linkname = "") => {
    const h = new Uint8Array(512);
    const put = (s, at, len) => h.set(toBytes(s).subarray(0, len), at);
    put(name, 0, 100);
    put("0000644\0", 100, 8);
    put("0000000\0", 108, 8);
    put("0000000\0", 116, 8);
    put(size.toString(8).padStart(11, "0") + "\0", 124, 12);
    put("00000000000\0", 136, 12);
    put(type, 156, 1);
    put(linkname, 157, 100);
    put("ustar\0", 257, 6);
    put("00", 263, 2);
    h.fill(0x20, 148, 156);
    let sum = 0;
    for (const b of h) sum += b;
    put(sum.toString(8).padStart(6, "0") + "\0 ", 148, 8);
    return h;
  };
  const end = new Uint8Array(1024);
  const cat = (...parts) => Buffer.concat(parts.map((p) => Buffer.from(p)));
  const zeros = gz.gzipSync(Buffer.alloc(32 << 20), { level: 9 });
  const member = zeros; // 32 MiB of zeros in ~32 KiB
  const list = [
    // 1 GiB of zeros: 32 concatenated gzip members
    cat(...Array(32).fill(member)),
    // a tar header announcing a 600 MiB file, then zeros
    gz.gzipSync(cat(tarHeader("sys/bus/pci/devices/x", 600 << 20), Buffer.alloc(1 << 20))),
    // 100 000 empty entries
    gz.gzipSync(cat(...Array.from({ length: 100000 }, (_, i) => tarHeader(`sys/bus/pci/devices/f${i}`, 0)), end)),
    // symlink loop and hard links to nothing
    gz.gzipSync(cat(tarHeader("sys/bus/pci/devices/a", 0, "2", "b"), tarHeader("sys/bus/pci/devices/b", 0, "2", "a"), tarHeader("sys/x", 0, "1", "sys/x"), end)),
    // paths that leave the capture
    gz.gzipSync(cat(tarHeader("../../etc/passwd", 0), tarHeader("/etc/shadow", 0), tarHeader("sys/bus/pci/../../../x", 0), end)),
    // a pax header with a 1 MiB path
    gz.gzipSync(cat(tarHeader("PaxHeader", 1 << 20, "x"), toBytes(`${(1 << 20).toString()} path=${"a/".repeat(1 << 19)}\n`.slice(0, 1 << 20)), end)),
    // gzip inside gzip
    gz.gzipSync(gz.gzipSync(Buffer.alloc(8 << 20))),
  ];
  return { list, tarHeader, end };
})();

function archiveInput(rng) {
  if (rng.chance(0.01)) return bombs.list[rng.int(bombs.list.length)];
  const seed = rng.pick(corpus.archives).bytes;
  if (rng.chance(0.5)) {
    // mutate the tar inside, then gzip again (or not)
    const tar = gz.gunzipSync(seed);
    const m = mutate(rng, new Uint8Array(tar.buffer, tar.byteOffset, tar.byteLength), [byteMutations], []).bytes;
    return rng.chance(0.8) ? gz.gzipSync(m, { level: 1 }) : m;
  }
  return mutate(rng, seed, [byteMutations], bytesOf(corpus.archives)).bytes;
}

// ---------------------------------------------------------------- the targets

const lspciSeeds = bytesOf(corpus.lspci);
const designSeeds = [
  ...bytesOf(corpus.designs),
  // every scenario's inline devices: as a design of its own
  ...corpus.scenarios.flatMap((f) => {
    const hosts = (() => {
      try {
        return (scenarioHosts(toText(f.bytes)) ?? []).filter((h) => h && Array.isArray(h.devices));
      } catch {
        return [];
      }
    })();
    return hosts.map((h) => toBytes(stringify({ devices: h.devices })));
  }),
];
function scenarioHosts(text) {
  const p = scenario.parseScenario(text);
  return p.ok ? p.input.file.hosts : undefined;
}
const bundled = snapshotFromBytes(corpus.archives.find((a) => a.path.endsWith("pcie-pci-bridge-alias.sysfs.tar.gz"))?.bytes ?? corpus.archives[0].bytes, "bundled").snapshot;

const faultSeeds = corpus.faults.map((f) => f.bytes);
const bundledPrediction = core.predict(bundled);

export const TARGETS = {
  fault: {
    what: "pasted kernel IOMMU fault lines (VT-d, AMD-Vi, SMMUv3), explained against the bundled capture",
    generate: (rng) => {
      const base = window(rng, rng.pick(faultSeeds), 20);
      return rng.chance(0.05) ? base : mutate(rng, base, [byteMutations, textMutations], faultSeeds).bytes;
    },
    check(bytes) {
      const text = toText(bytes);
      const limit = limits.faultLimitProblem(text);
      if (limit) {
        checkErrorLine(`stdin:${limit.line}: ${limit.message}`, "stdin");
        return "error";
      }
      const parsed = faults.parseFaultLog(text);
      if (parsed.faults.length === 0) {
        checkErrorLine(faultCmd.noFaultError("stdin", parsed).message, "stdin");
        return "error";
      }
      const data = faultJson.faultsToJson(bundled, "bundled", bundledPrediction, parsed);
      for (const f of data.faults) {
        checkMessage(f.summary, "fault summary");
        checkMessage(f.cause.text, "fault cause");
        for (const n of f.notes) checkMessage(n, "fault note");
      }
      return "model";
    },
  },
  config: {
    what: "config space decode and capability walks",
    generate: (rng) =>
      drawn(rng, bytesOf(corpus.configs), [byteMutations], (r) => (r.chance(0.3) ? sample(fc.uint8Array({ maxLength: 4096 }), r) : randomConfig(r))),
    check(bytes, rng) {
      const r = core.decodeConfig(bytes, { complete: bytes.length >= 256 && rng.chance(0.5) });
      for (const issue of r.issues) checkMessage(core.formatConfigIssue(issue), "config issue");
      if (!r.config) return "error";
      exercise({ source: "sysfs", topology: core.buildTopology([{ segment: 0, bus: 0, devfn: 8, config: r.config }]), kernelGroups: undefined, cmdline: undefined, osrelease: "6.1.0", acpi: {}, notes: [] });
      return "model";
    },
  },
  capture: {
    what: "capture archives (gzip, tar headers, links, paths) through the CLI's reader",
    // a gzip bomb is only told from a large capture once 64 MiB are inflated (CAPTURE_LIMITS.ratioAfterBytes)
    minBudgetMs: 15000,
    generate: archiveInput,
    check: (bytes) => cliPath(() => exercise(snapshotFromBytes(bytes, FILE).snapshot)),
  },
  lspci: {
    what: "lspci text, hex dumps and trees through the CLI's reader",
    generate: (rng) => {
      const base = window(rng, rng.pick(lspciSeeds), 300);
      return rng.chance(0.05) ? base : mutate(rng, base, [byteMutations, textMutations], lspciSeeds).bytes;
    },
    check(bytes, rng) {
      const text = toText(bytes);
      const r = core.snapshotFromLspci(text);
      if (r.ok) {
        exercise(r.snapshot);
        for (const w of r.warnings) checkMessage(lspciMessages.formatLspciWarning(w), "lspci warning");
      } else checkErrorLine(`${FILE}:${r.line}: ${r.reason}`);
      // now and then the whole CLI path (binary check, kind detection, notes)
      if (rng.chance(0.1)) cliPath(() => exercise(snapshotFromBytes(bytes, FILE).snapshot));
      return r.ok ? "model" : "error";
    },
  },
  design: {
    what: "design YAML",
    generate: (rng) => drawn(rng, designSeeds, [byteMutations, textMutations, yamlMutations], (r) => (r.chance(0.7) ? randomDesign(r) : toBytes(stringify({ devices: sample(yamlValue, r) })))),
    check(bytes) {
      const text = safeText(bytes);
      if (text === undefined) return "error";
      const r = core.snapshotFromDesign(text);
      if (!r.ok) {
        checkErrorLine(yamlError(FILE, r.problems, "see docs/design.md").message);
        return "error";
      }
      exercise(r.snapshot);
      return "model";
    },
  },
  plan: {
    what: "plan YAML, checked against the bundled capture",
    generate: (rng) => drawn(rng, bytesOf(corpus.plans), [byteMutations, textMutations, yamlMutations], (r) => (r.chance(0.7) ? randomPlan(r) : toBytes(stringify(sample(yamlValue, r))))),
    check(bytes) {
      const text = safeText(bytes);
      if (text === undefined) return "error";
      const parsed = planParse.parsePlan(text, FILE);
      if (!parsed.ok) {
        checkErrorLine(yamlError(FILE, parsed.problems, "see docs/plan.md").message);
        return "error";
      }
      const outcome = planCheck.checkPlan(bundled, parsed.plan, { label: "bundled" });
      if (!outcome.ok) {
        checkErrorLine(yamlError(FILE, outcome.problems, "see docs/plan.md").message);
        return "error";
      }
      return "model";
    },
  },
  scenario: {
    what: "scenario YAML, loaded and run",
    generate: (rng) => drawn(rng, bytesOf(corpus.scenarios), [byteMutations, textMutations, yamlMutations], (r) => toBytes(stringify(sample(yamlValue, r))), 0.1),
    check(bytes) {
      const text = safeText(bytes);
      if (text === undefined) return "error";
      const parsed = scenario.parseScenario(text);
      if (!parsed.ok) {
        checkErrorLine(yamlError(FILE, parsed.problems, "see docs/scenario.md").message);
        return "error";
      }
      // a host whose topology is a file: the bundled capture stands in for it
      const sources = new Map(parsed.input.topologies.flatMap((t, i) => (t.kind === "source" ? [[parsed.input.file.hosts[i].name, bundled]] : [])));
      const loaded = simulation.simulationFrom(parsed.input, sources);
      if (!loaded.ok) {
        checkErrorLine(yamlError(FILE, loaded.problems, "see docs/scenario.md").message);
        return "error";
      }
      loaded.simulation.run();
      return "model";
    },
  },
  dmar: {
    what: "ACPI DMAR tables and the VT-d units they describe",
    generate: (rng) => drawn(rng, bytesOf(corpus.dmar), [byteMutations], null),
    check(bytes) {
      const t = acpi.parseDmar(bytes);
      for (const issue of t.issues) checkMessage(acpi.formatAcpiIssue(issue), "DMAR issue");
      acpi.dmarUnits(t);
      return t.header ? "model" : "error";
    },
  },
  ivrs: {
    what: "ACPI IVRS tables and the AMD-Vi units they describe",
    generate: (rng) => drawn(rng, bytesOf(corpus.ivrs), [byteMutations], null),
    check(bytes) {
      const t = acpi.parseIvrs(bytes);
      for (const issue of t.issues) checkMessage(acpi.formatAcpiIssue(issue), "IVRS issue");
      acpi.ivrsUnits(t);
      return t.header ? "model" : "error";
    },
  },
  switchtec: {
    what: "Switchtec BAR0 register excerpts and the proxy aliases read from them",
    generate: (rng) => drawn(rng, [], [byteMutations], randomExcerpt, 1),
    check(bytes) {
      const image = switchtec.parseExcerpt(bytes);
      for (const issue of image.issues) checkMessage(issue, "excerpt issue");
      const r = switchtec.proxyAliases(image, {});
      for (const line of r.log ?? []) checkMessage(line, "quirk log line");
      return image.regions.length > 0 ? "model" : "error";
    },
  },
};


// ---------------------------------------------------------------- the web page's URL fragment

const { deflateRawSync } = gz;
const base64url = (bytes) => Buffer.from(bytes).toString("base64url");
const fragmentOf = (jsonText, level = 6) => `#s=${base64url(deflateRawSync(Buffer.from(jsonText), { level }))}`;
/** links that inflate past the page's limit, or hold JSON nested past any stack */
export const fragmentBombs = [
  fragmentOf("0".repeat(40 * 1024 * 1024), 9),
  fragmentOf(`{"v":1,"input":${"[".repeat(2_000_000)}`, 9),
  fragmentOf(JSON.stringify({ v: 1, toggled: Array.from({ length: 200_000 }, (_, i) => `0000:${(i >> 8) & 0xff}:00.0`) })),
  fragmentOf(JSON.stringify({ v: 1, whatif: { acs: Array.from({ length: 70_000 }, () => ({ bdf: "0000:00:1c.0", set: 1, clear: 0 })) } })),
];
const bundledBdfs = [...bundled.topology.functions.keys()];
const smallArchives = bytesOf(corpus.archives).filter((b) => b.length < 64 * 1024);
const FRAGMENT_STRINGS = ["", "6.1", "5.4", "6.12.23", "4.19", "99.99", "x", "downstream", "multifunction", "downstream,multifunction", "id:8086:a110", "1", "0000:00:1c.0", "0000:00:1c.0@0x7f", "-", "\u202e", "\u001b[2J"];

/** a page state as the page writes it, with odd values now and then */
function randomPageState(rng) {
  const str = () => (rng.chance(0.8) ? rng.pick(FRAGMENT_STRINGS) : sample(fc.string({ maxLength: 30, unit: "binary" }), rng));
  const opt = () => (rng.chance(0.6) ? undefined : str());
  const bdf = () => (rng.chance(0.85) ? rng.pick(bundledBdfs) : str());
  let input;
  switch (rng.int(5)) {
    case 0:
      input = { kind: "none" };
      break;
    case 1:
      input = { kind: "example", id: rng.chance(0.8) ? rng.pick(page.EXAMPLES).id : str() };
      break;
    case 2:
      input = { kind: "text", name: rng.chance(0.8) ? "pasted" : str(), text: toText(window(rng, rng.pick([...lspciSeeds, ...designSeeds]), 120)) };
      break;
    default:
      input = { kind: "bytes", name: rng.chance(0.8) ? "capture.tar.gz" : str(), data: Buffer.from(rng.pick(smallArchives)).toString("base64") };
  }
  const acs = Array.from({ length: rng.skewed(6) }, () => ({ bdf: bdf(), set: rng.int(0x80), clear: rng.int(0x80) }));
  const plans = bytesOf(corpus.plans);
  return {
    input,
    whatif: { kernel: rng.chance(0.5) ? "" : str(), override: opt(), disableAcsRedir: opt(), configAcs: opt(), acs },
    selected: rng.chance(0.5) ? bdf() : undefined,
    search: rng.chance(0.8) ? "" : str(),
    hidden: Array.from({ length: rng.skewed(4) }, str),
    toggled: Array.from({ length: rng.skewed(4) }, bdf),
    plan: rng.chance(0.6) || plans.length === 0 ? "" : toText(rng.pick(plans)),
  };
}

function fragmentInput(rng) {
  if (rng.chance(0.005)) return toBytes(rng.pick(fragmentBombs));
  let json = toBytes(JSON.stringify({ v: 1, ...randomPageState(rng) }));
  // damage the JSON inside a well-formed link (the checks after inflate), or the link itself
  if (rng.chance(0.5)) json = mutate(rng, json, [byteMutations, textMutations], []).bytes;
  const link = toBytes(fragmentOf(toText(json), rng.pick([1, 6, 9])));
  return rng.chance(0.25) ? mutate(rng, link, [byteMutations, textMutations], []).bytes : link;
}

/** a message the page shows for its input: one printable line, saying what to do */
function checkPageMessage(line, what) {
  checkMessage(line, what);
  if (line.length > MAX_LINE) throw new FuzzFailure(`${what} is ${line.length} characters long`);
  if (!/; |\(see | — /.test(line)) throw new FuzzFailure(`${what} does not say what to do: ${JSON.stringify(line.slice(0, 300))}`);
}

TARGETS.fragment = {
  what: "the web page's URL fragment (a shared link): decoded, its input read, what-if, explanation and plan run",
  generate: fragmentInput,
  check(bytes) {
    const hash = toText(bytes);
    const state = page.decodeState(hash);
    if (state === undefined) {
      if (hash.startsWith("#s=")) throw new FuzzFailure("a #s= link was taken for no link at all");
      return "error";
    }
    if (typeof state === "string") {
      checkPageMessage(state, "shared-link message");
      return "error";
    }
    // what the page writes back must read back the same
    const again = page.decodeState(page.encodeState(state));
    if (JSON.stringify(again) !== JSON.stringify(state)) throw new FuzzFailure(`a decoded state does not survive encode/decode: ${JSON.stringify(state).slice(0, 200)}`);
    const loaded = page.loadInput(state.input);
    if (loaded === undefined) return "model";
    if (!loaded.ok) {
      checkPageMessage(loaded.message, "input message");
      return "error";
    }
    const a = page.analyse(loaded.loaded, state.whatif, page.ACS_FLAG_NAMES);
    if (a.problem !== undefined) checkPageMessage(a.problem, "what-if problem");
    if (!Array.isArray(a.groups?.groups)) throw new FuzzFailure("an analysis without groups");
    if (state.selected !== undefined) page.explain(a, state.selected);
    const plan = page.checkPlanText(loaded.loaded, state.plan);
    // the page lists every problem, as `check --json` does, under a link to docs/plan.md
    if (plan.kind === "problems")
      for (const line of plan.lines) {
        checkMessage(line, "plan problem");
        if (!/^plan\.yaml:\d+: \S/.test(line)) throw new FuzzFailure(`plan problem has no line: ${JSON.stringify(line.slice(0, 300))}`);
      }
    return "model";
  },
};

/** a text input as the CLI reads it: binary data is one clear line */
function safeText(bytes) {
  try {
    return load.textFromBytes(bytes, FILE, "pass a YAML file");
  } catch (err) {
    if (!(err instanceof cliErrors.InputError)) throw err;
    checkErrorLine(err.message);
    return undefined;
  }
}

/** a synthetic config space from the design encoder, with random capabilities */
function randomConfig(rng) {
  const f = { classCode: rng.pick([0x060400, 0x020000, 0x030000, 0x060000, 0x068000]), headerType: rng.chance(0.4) ? 1 : 0, pcieType: rng.pick([0, 1, 4, 5, 6, 7, 8, 9, 10, 15]) };
  if (rng.chance(0.5)) f.acs = { cap: rng.int(0x80), ctrl: rng.int(0x80) };
  if (rng.chance(0.3)) f.bus = { primary: rng.int(256), secondary: rng.int(256), subordinate: rng.int(256) };
  if (rng.chance(0.2)) f.sriov = { totalVFs: rng.int(300), numVFs: rng.int(300), offset: rng.int(300), stride: rng.int(8), vfDevice: rng.int(0x10000) };
  if (rng.chance(0.3)) f.multifunction = true;
  try {
    return synth.buildConfig(f);
  } catch {
    return sample(fc.uint8Array({ maxLength: 4096 }), rng);
  }
}

/** an excerpt of a random partition table, sometimes damaged */
function randomExcerpt(rng) {
  const partitions = {};
  const count = rng.skewed(48);
  for (let i = 0; i < count; i++) {
    partitions[rng.int(64)] = {
      requesterIds: Array.from({ length: rng.skewed(rng.chance(0.05) ? 600 : 8) }, () => (rng.chance(0.7) ? `${hex2(rng, 32)}.${rng.int(8)}` : rng.u32())),
      ...(rng.chance(0.2) && { tableSize: rng.pick([0, 1, 64, 512, 513, 0xffff, rng.u32()]) }),
    };
  }
  const image = switchtec.imageFromPartitions({ ownPartition: rng.int(64), partitions, ...(rng.chance(0.3) && { ntp0TargetLow: rng.u32() }) });
  const bytes = switchtec.encodeExcerpt(image.regions);
  return rng.chance(0.6) ? mutate(rng, bytes, [byteMutations], []).bytes : bytes;
}

/** the input `index` of `target` in the campaign with `seed` */
export function inputOf(target, seed, index) {
  const rng = new Rng(seed, target, index);
  const bytes = TARGETS[target].generate(rng);
  return { bytes, rng };
}
