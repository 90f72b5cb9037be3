/**
 * Builds a simulation from a parsed scenario: each host's snapshot and
 * prediction (the Switchtec quirk reading the switch's real tables), its
 * IOMMU machine with the scenario's domains, mappings and attachments,
 * the NTB, and the transactions checked against all of it. Anything that
 * cannot exist is a problem with its line; what Linux would complain
 * about is a warning.
 */
import { snapshotFromDesign } from "../design/from-design.js";
import { predict } from "../iommu/predict.js";
import type { AcsEdit, Prediction } from "../iommu/predict.js";
import { kernelWithoutGroups, parseKernelVersion } from "../kernel/version.js";
import type { KernelVersion } from "../kernel/version.js";
import type { IommuArch } from "../program/faults.js";
import { machineFromPrediction } from "../program/machine.js";
import type { IommuMachine, MachineOptions } from "../program/machine.js";
import { formatProgramIssue } from "../program/messages.js";
import type { AddressWidth } from "../program/page-table.js";
import type { Snapshot } from "../sources/snapshot.js";
import type { GasImage } from "../switchtec/gas-image.js";
import { devId, formatBdf, formatRid, parseBdf } from "../topology/address.js";
import type { PciFunction } from "../topology/model.js";
import { formatArch, logFormatFor, vfBusRangeLine } from "./fault-log.js";
import { functionAt, isHostBridge, newTranslation, refusedVfsOf } from "./host.js";
import type { SimHost } from "./host.js";
import { formatMapError, isolationLossMessage, noNtQuirkMessage, skippedAliasMessage, wideAliasMessage } from "./messages.js";
import { buildNtb } from "./ntb.js";
import type { NtbSwitch } from "./ntb.js";
import type { Claim } from "./outcome.js";
import type { ScenarioInput, ScenarioProblem } from "./parse-scenario.js";
import type { ExpectSpec, HostSpec, TransactionSpec } from "./scenario-schema.js";

/** a warning about the setup, for the host it concerns */
export interface SimWarning {
  readonly host: string | undefined;
  readonly message: string;
}

/** where a transaction starts */
export type TlpSource =
  | { readonly kind: "cpu"; readonly rid: number }
  | { readonly kind: "function"; readonly fn: PciFunction }
  /** VF n of a PF, by its routing ID (it may not exist as a function) */
  | { readonly kind: "vf"; readonly pf: PciFunction; readonly vf: number; readonly rid: number; readonly bdf: string };

export interface SimTransaction {
  readonly index: number;
  readonly name: string | undefined;
  readonly host: SimHost;
  readonly from: string;
  readonly source: TlpSource;
  readonly phantom: number | undefined;
  readonly forgedRid: number | undefined;
  readonly force: boolean;
  readonly access: "read" | "write";
  readonly address: number;
  readonly size: number;
  readonly expect: ExpectSpec | undefined;
  readonly line: number;
}

export interface SimulationParts {
  readonly description: string | undefined;
  readonly hosts: readonly SimHost[];
  readonly ntb: NtbSwitch | undefined;
  readonly transactions: readonly SimTransaction[];
  readonly warnings: readonly SimWarning[];
  /** warnings the scenario says must appear */
  readonly expectedWarnings: readonly string[];
}

export type BuildResult = { readonly ok: true; readonly parts: SimulationParts } | { readonly ok: false; readonly problems: readonly ScenarioProblem[] };

type Path = readonly (string | number)[];

const pathText = (path: Path): string => path.reduce<string>((acc, k) => (typeof k === "number" ? `${acc}[${k}]` : acc ? `${acc}.${k}` : String(k)), "");

/** the PCI address as the topology keys it, with the host's segment 0 as default */
const bdfKey = (text: string): string => {
  const a = parseBdf(text)!;
  return formatBdf(a.segment, a.bus, a.devfn);
};

const PAGE = 4096;

/**
 * Builds the simulation. `sources` holds the snapshots of hosts whose
 * topology is a `source:` file, by host name (the caller reads them).
 */
export function buildSimulation(input: ScenarioInput, sources: ReadonlyMap<string, Snapshot> = new Map()): BuildResult {
  const { file, lineOf } = input;
  const problems: ScenarioProblem[] = [];
  const warnings: SimWarning[] = [];
  const problem = (path: Path, message: string): void => void problems.push({ line: lineOf(path), path: pathText(path), message });

  // 1. topologies
  const snapshots: (Snapshot | undefined)[] = file.hosts.map((h, i) => {
    const topo = input.topologies[i]!;
    if (topo.kind === "source") {
      const s = sources.get(h.name);
      if (!s) problem(["hosts", i, "source"], `the source '${topo.path}' was not read`);
      return s;
    }
    const r = snapshotFromDesign(topo.designText);
    if (!r.ok) {
      for (const p of r.problems) {
        problems.push({ line: topo.lines === "kept" ? p.line : topo.line, path: p.path ? `hosts[${i}].${p.path}` : `hosts[${i}].devices`, message: p.message });
      }
      return undefined;
    }
    return r.snapshot;
  });
  snapshots.forEach((s, i) => {
    if (!s) return;
    for (const issue of s.topology.issues) {
      if (issue.code === "duplicate-bdf") problem(["hosts", i, "devices"], `requester-ID collision: two functions at ${issue.bdf}`);
      if (issue.code === "vf-bus-overflow") {
        problem(["hosts", i, "devices"], `${issue.physfn}: VF ${issue.vf + 1}'s routing ID passes ffff:1f.7 and would wrap to bus 00; no PF can have it, so this configuration is invalid`);
      }
    }
  });
  if (problems.length > 0) return { ok: false, problems };

  // 2. the switch, against the topologies
  const views = new Map(file.hosts.map((h, i) => [h.name, { topology: snapshots[i]!.topology }]));
  let ntb: NtbSwitch | undefined;
  if (file.ntb) {
    const built = buildNtb(file.ntb, views, lineOf);
    problems.push(...built.problems);
    ntb = built.ntb;
  }
  if (problems.length > 0) return { ok: false, problems };

  // 3. hosts
  const hosts: SimHost[] = [];
  file.hosts.forEach((spec, i) => {
    const host = buildHost(spec, i, snapshots[i]!, input, ntb, problem, warnings);
    if (host) hosts.push(host);
  });
  if (problems.length > 0) return { ok: false, problems };

  // 4. transactions
  const byName = new Map(hosts.map((h) => [h.name, h]));
  const transactions: SimTransaction[] = [];
  file.transactions.forEach((t, i) => {
    const tx = buildTransaction(t, i, byName, hosts, problem, lineOf);
    if (tx) transactions.push(tx);
  });
  if (problems.length > 0) return { ok: false, problems };

  return {
    ok: true,
    parts: { description: file.description, hosts, ntb, transactions, warnings, expectedWarnings: file.expect?.warnings ?? [] },
  };
}

function buildHost(
  spec: HostSpec,
  i: number,
  snapshot0: Snapshot,
  input: ScenarioInput,
  ntb: NtbSwitch | undefined,
  problem: (path: Path, message: string) => void,
  warnings: SimWarning[],
): SimHost | undefined {
  const at = ["hosts", i] as const;
  const warn = (message: string): void => void warnings.push({ host: spec.name, message });
  const topology = snapshot0.topology;

  // kernel
  let kernel: KernelVersion | undefined;
  const kernelText = input.kernelTexts[i];
  if (kernelText !== undefined) {
    kernel = parseKernelVersion(kernelText);
    if (!kernel) return void problem([...at, "kernel"], `'${kernelText}' is not a kernel release; write it quoted, e.g. "5.10" or "4.15"`);
    const old = kernelWithoutGroups(kernel);
    if (old) return void problem([...at, "kernel"], old);
  }

  // ACS Control as the kernel leaves it
  const acsEdits: AcsEdit[] = [];
  for (const [text, ctrl] of Object.entries(spec.acs_ctrl ?? {})) {
    const a = parseBdf(text);
    const bdf = a && formatBdf(a.segment, a.bus, a.devfn);
    if (!bdf || !topology.functions.has(bdf)) return void problem([...at, "acs_ctrl"], `${text}: ${bdf ? `host '${spec.name}' has no function ${bdf}` : "expected a PCI address [dddd:]bb:dd.f"}`);
    if (!topology.functions.get(bdf)!.isPcie) return void problem([...at, "acs_ctrl"], `${bdf} is a conventional PCI function: it has no ACS capability`);
    acsEdits.push({ bdf, set: ctrl, clear: 0x7f & ~ctrl });
  }

  // the switch's tables, as the Switchtec quirk reads them on this host's NT endpoints
  let snapshot = snapshot0;
  const partitions = ntb ? [...ntb.partitions.values()].filter((p) => p.host === spec.name) : [];
  if (ntb?.chip === "switchtec" && partitions.length > 0) {
    const images = new Map<string, GasImage>(snapshot.ntb ?? []);
    for (const p of partitions) {
      if (snapshot0.ntb?.has(p.nt)) {
        const where = input.topologies[i]!.kind === "source" ? "source" : "devices";
        return void problem([...at, where], `${p.nt} already has a Switchtec register image (a design's switchtec: key or a capture's excerpt); the scenario's ntb: section is the switch, so describe the tables only there`);
      }
      images.set(p.nt, ntb.gasImage(p.id));
    }
    snapshot = { ...snapshot, ntb: images };
  }

  const p: Prediction = predict(snapshot, { kernel, cmdline: spec.cmdline, acsEdits, aliasQuirks: spec.alias_quirks !== false });
  const kernelUsed = p.kernel;

  // the IOMMU
  const want = spec.iommu?.arch;
  let arch: IommuArch | "none";
  if (want === "none" || p.params.iommuOff) {
    arch = "none";
    if (want !== "none") warn("the kernel command line turns the IOMMU off: nothing is translated");
  }
  else if (p.layout.kind === "intel" || p.layout.kind === "amd") {
    const has = p.layout.kind === "intel" ? "intel" : "amd";
    if (want !== undefined && want !== has) {
      return void problem([...at, "iommu", "arch"], `the source has ${has === "intel" ? "a DMAR table (Intel VT-d)" : "an IVRS table (AMD-Vi)"}; arch ${want} contradicts it`);
    }
    arch = has === "intel" ? "vtd" : "amd";
  } else arch = want === "amd" ? "amd" : want === "smmu" ? "smmu" : "vtd";
  if (spec.iommu?.mode !== undefined && arch !== "vtd") return void problem([...at, "iommu", "mode"], "mode: (legacy or scalable) is a VT-d setting; this host's IOMMU is not VT-d");
  if (spec.iommu?.disable_bypass !== undefined && arch !== "smmu") return void problem([...at, "iommu", "disable_bypass"], "disable_bypass: is an SMMUv3 setting");
  if (spec.iommu?.snp !== undefined && arch !== "amd") return void problem([...at, "iommu", "snp"], "snp: is an AMD-Vi setting");
  const addressWidth = spec.iommu?.address_width as AddressWidth | undefined;
  let machine: IommuMachine | undefined;
  if (arch !== "none") {
    const opts: MachineOptions = {
      mode: spec.iommu?.mode,
      addressWidth,
      assumedArch: arch === "amd" ? "amd" : "vtd",
      ...(arch === "smmu" && { smmu: { disableBypass: spec.iommu?.disable_bypass ?? true } }),
      ...(spec.iommu?.snp !== undefined && { amdSnp: spec.iommu.snp }),
    };
    machine = machineFromPrediction(p, opts);
  }
  let logFormat = arch === "none" ? undefined : logFormatFor(arch, kernelUsed);
  if (spec.log_format !== undefined) {
    if (arch === "none" || formatArch(spec.log_format) !== arch) return void problem([...at, "log_format"], `${spec.log_format} is not a format of this host's IOMMU (${arch})`);
    logFormat = spec.log_format;
  }

  // what the kernel printed while setting up
  const bootLog: string[] = [];
  for (const part of partitions) {
    const r = p.ntb.get(part.nt)?.result;
    if (r && spec.alias_quirks !== false) {
      // the info line, then the per-entry pci_dbg lines (shown with dyndbg)
      for (const line of r.log) if (!line.startsWith("Processing partition")) bootLog.push(`pci ${part.nt}: ${line}`);
      for (const w of r.warnings) bootLog.push(`pci ${part.nt}: ${w.text}`);
    }
    const reached = [...ntb!.partitions.values()].some((o) => o.windows.some((w) => w.target === part.id || [...w.entries.values()].some((e) => e.target === part.id)));
    if (reached && p.props(part.nt).aliasDevfns.length === 0) {
      const why = spec.alias_quirks === false ? "disabled" : r ? "empty" : "no-quirk";
      const nt = topology.functions.get(part.nt)!;
      const id = `${nt.vendor.toString(16).padStart(4, "0")}:${nt.device.toString(16).padStart(4, "0")}`;
      warn(noNtQuirkMessage(part.nt, id, kernelUsed, ntb!.chip, why));
    }
  }
  for (const w of p.warnings) {
    if (snapshot.source === "design" && w.startsWith("no DMAR or IVRS table")) continue;
    warn(w);
  }
  const refusedVfs = refusedVfsOf(topology);
  for (const pf of new Set([...refusedVfs.values()])) {
    const fn = topology.functions.get(pf.pf)!;
    bootLog.push(vfBusRangeLine(pf.pf, fn.driver, pf.count, pf.bus, pf.start, pf.end));
  }

  // domains and mappings
  const hasIommuWork = spec.domains.length > 0 || spec.attach.length > 0;
  if (!machine && hasIommuWork) return void problem([...at, spec.domains.length > 0 ? "domains" : "attach"], `host '${spec.name}' has no IOMMU (${want === "none" ? "iommu.arch: none" : "the command line turns it off"}): domains and attachments need one`);
  if (machine) {
    let ok = true;
    spec.domains.forEach((d, di) => {
      const dp = [...at, "domains", di];
      if (machine!.domain(d.name)) return (ok = false), problem([...dp, "name"], `domain '${d.name}' is declared twice`);
      const width = (d.address_width ?? addressWidth) as AddressWidth | undefined;
      const domain = machine!.createDomain(d.name, { kind: d.kind, ...(width !== undefined && { addressWidth: width }) });
      if (d.kind !== "paging" && d.mappings.length > 0) return (ok = false), problem([...dp, "mappings"], `a ${d.kind} domain has no page table to map into`);
      d.mappings.forEach((m, mi) => {
        const err = domain.map(m.iova, m.paddr, m.size, m.perm);
        if (err) (ok = false), problem([...dp, "mappings", mi, err.code === "unaligned" ? err.field : err.code === "beyond-width" ? "size" : "iova"], formatMapError(err, domain.addressWidth));
      });
    });
    if (!ok) return undefined;
    spec.attach.forEach((a, ai) => {
      const ap = [...at, "attach", ai];
      const bdf = bdfKey(a.bdf);
      const domain = machine!.domain(a.domain);
      if (!topology.functions.has(bdf)) return (ok = false), problem([...ap, "bdf"], `host '${spec.name}' has no function ${bdf}`);
      if (!domain) return (ok = false), problem([...ap, "domain"], `no domain '${a.domain}' on host '${spec.name}'; declare it under domains:`);
      const refused = refusedVfs.get(bdf);
      if (refused) {
        return (ok = false), problem([...ap, "bdf"], `${bdf} does not exist: Linux refused to enable the VFs of ${refused.pf} (bus ${refused.bus.toString(16).padStart(2, "0")} is past the bus range); widen the range above the PF or drop the attachment`);
      }
      const report = machine!.attach(bdf, domain);
      for (const alias of report.skipped) warn(skippedAliasMessage(bdf, formatRid(alias.rid), alias.cause === "bridge" ? alias.via : undefined));
      for (const issue of report.issues) {
        if (issue.code === "unknown-function") (ok = false), problem([...ap, "bdf"], formatProgramIssue(issue));
        else warn(formatProgramIssue(issue));
      }
    });
    if (!ok) return undefined;
    // quirk aliases that are other functions' requester IDs
    for (const a of spec.attach) {
      const bdf = bdfKey(a.bdf);
      const fn = topology.functions.get(bdf)!;
      const own = devId(fn.bus, fn.devfn);
      const quirkRids = (machine.targetsOf(bdf)?.targets ?? []).filter((t) => t.causes.some((c) => c.cause === "quirk") && t.rid !== own);
      for (const t of quirkRids) {
        const other = functionAt(topology, fn.segment, t.rid);
        if (!other || other.bdf === bdf) continue;
        const held = machine.attachedDomain(other.bdf);
        if (held?.name === a.domain) continue;
        const cause = t.causes.find((c) => c.cause === "quirk");
        warn(isolationLossMessage(bdf, other.bdf, formatRid(t.rid), cause?.cause === "quirk" ? cause.source : "quirk", a.domain, held?.name));
      }
      if (quirkRids.length >= 32) warn(wideAliasMessage(bdf, quirkRids.length, fn.bus, a.domain));
    }
  }

  // address ranges requests can hit
  const claims: Claim[] = [];
  let claimsOk = true;
  spec.bars.forEach((b, bi) => {
    const bdf = bdfKey(b.bdf);
    if (!topology.functions.has(bdf)) return (claimsOk = false), problem([...at, "bars", bi, "bdf"], `host '${spec.name}' has no function ${bdf}`);
    if (b.size === 0 || b.size % PAGE !== 0 || b.base % PAGE !== 0) return (claimsOk = false), problem([...at, "bars", bi], "a BAR here is a whole number of 4 KiB pages on a 4 KiB boundary");
    claims.push({ kind: "bar", host: spec.name, bdf, bar: b.bar, base: b.base, size: b.size });
  });
  for (const part of partitions) {
    for (const w of part.windows) claims.push({ kind: "nt-window", host: spec.name, bdf: part.nt, bar: w.bar, base: w.base, size: w.size, partition: part.id, window: w.index });
  }
  claims.sort((a, b) => a.base - b.base);
  for (let k = 1; k < claims.length; k++) {
    const prev = claims[k - 1]!;
    const cur = claims[k]!;
    if (cur.base < prev.base + prev.size) {
      claimsOk = false;
      problem([...at, "bars"], `overlapping windows on host '${spec.name}': ${claimText(prev)} and ${claimText(cur)} share addresses from 0x${cur.base.toString(16)}`);
    }
  }
  if (!claimsOk) return undefined;

  return {
    name: spec.name,
    index: i,
    snapshot,
    prediction: p,
    kernel: kernelUsed,
    arch,
    machine,
    logFormat,
    rootComplexP2p: spec.root_complex_p2p ?? true,
    acsCtrl: p.ctrl.ctrl,
    claims,
    refusedVfs,
    bootLog,
    faultCount: new Map(),
    translation: newTranslation(),
  };
}

function claimText(c: Claim): string {
  const range = `[0x${c.base.toString(16)}-0x${(c.base + c.size - 1).toString(16)}]`;
  return c.kind === "bar" ? `${c.bdf} BAR${c.bar ?? ""} ${range}` : `NT window ${c.window} of partition ${c.partition} ${range}`;
}

function buildTransaction(
  t: TransactionSpec,
  i: number,
  byName: ReadonlyMap<string, SimHost>,
  hosts: readonly SimHost[],
  problem: (path: Path, message: string) => void,
  lineOf: (path: Path) => number,
): SimTransaction | undefined {
  const at = ["transactions", i] as const;
  const host = t.host !== undefined ? byName.get(t.host) : hosts.length === 1 ? hosts[0] : undefined;
  if (!host) {
    if (t.host !== undefined) return void problem([...at, "host"], `no host '${t.host}'; name one of ${[...byName.keys()].join(", ")}`);
    return void problem([...at], `the scenario has ${hosts.length} hosts: say which one issues it (host:)`);
  }
  const topology = host.prediction.topology;

  if (t.size < 1 || t.size > 4096) return void problem([...at, "size"], "a TLP carries 1 to 4096 bytes");
  if (Math.floor(t.address / PAGE) !== Math.floor((t.address + t.size - 1) / PAGE)) {
    return void problem([...at, "size"], `[0x${t.address.toString(16)}, +${t.size}) crosses a 4 KiB boundary, which no TLP may do (PCIe Base 2.2.7); split it in two`);
  }
  if (t.vf !== undefined && t.phantom !== undefined) return void problem([...at, "phantom"], "a VF's request and a phantom function's request are different sources: give vf: or phantom:, not both");

  let forgedRid: number | undefined;
  if (t.rid !== undefined) {
    if (t.phantom !== undefined || t.vf !== undefined) return void problem([...at, "rid"], "rid: forges the requester ID outright; it does not combine with vf: or phantom:");
    const r = parseBdf(t.rid)!;
    forgedRid = devId(r.bus, r.devfn);
  }

  let source: SimTransaction["source"];
  if (t.from.trim().toLowerCase() === "cpu") {
    if (t.vf !== undefined || t.phantom !== undefined) return void problem([...at, "from"], "the CPU has no VFs or phantom functions");
    source = { kind: "cpu", rid: forgedRid ?? 0 };
  } else {
    const a = parseBdf(t.from);
    if (!a) return void problem([...at, "from"], `expected "cpu" or a PCI address [dddd:]bb:dd.f, not '${t.from}'`);
    const bdf = formatBdf(a.segment, a.bus, a.devfn);
    const fn = topology.functions.get(bdf);
    if (!fn) return void problem([...at, "from"], `host '${host.name}' has no function ${bdf}`);
    if (isHostBridge(topology, fn)) {
      if (t.vf !== undefined || t.phantom !== undefined) return void problem([...at, "from"], "a host bridge stands for the CPU: it has no VFs or phantom functions");
      source = { kind: "cpu", rid: forgedRid ?? devId(fn.bus, fn.devfn) };
    } else if (t.vf !== undefined) {
      const sriov = fn.config?.sriov;
      if (!sriov) return void problem([...at, "vf"], `${bdf} has no SR-IOV capability; declare sriov: on the device`);
      if (t.vf > sriov.totalVFs) return void problem([...at, "vf"], `${bdf} has ${sriov.totalVFs} VFs at most (TotalVFs)`);
      const rid = devId(fn.bus, fn.devfn) + sriov.firstVfOffset + (t.vf - 1) * sriov.vfStride;
      if (rid > 0xffff) {
        return void problem([...at, "vf"], `VF ${t.vf} of ${bdf} would have routing ID 0x${rid.toString(16)}: past ffff:1f.7, it wraps to bus 00, so this configuration is invalid`);
      }
      source = { kind: "vf", pf: fn, vf: t.vf, rid, bdf: formatBdf(fn.segment, rid >> 8, rid & 0xff) };
    } else {
      if (t.phantom !== undefined) {
        const bits = fn.phantomFunctions;
        if (bits === 0) return void problem([...at, "phantom"], `${bdf} has no phantom functions (DevCap Phantom Functions Supported 00); declare phantom: 1, 2 or 3 on the device`);
        if (t.phantom >= 1 << bits) return void problem([...at, "phantom"], `with ${bits} phantom bit${bits > 1 ? "s" : ""}, phantom: is 1..${(1 << bits) - 1}`);
      }
      source = { kind: "function", fn };
    }
  }
  if (t.expect?.host !== undefined && !byName.has(t.expect.host)) return void problem([...at, "expect", "host"], `no host '${t.expect.host}'`);
  return {
    index: i,
    name: t.name,
    host,
    from: t.from,
    source,
    phantom: t.phantom,
    forgedRid,
    force: t.force ?? false,
    access: t.access,
    address: t.address,
    size: t.size,
    expect: t.expect,
    line: lineOf(at),
  };
}
