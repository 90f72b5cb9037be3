import { z } from "zod";
import { decodeConfig } from "../config/decode.js";
import { parseCmdline } from "../kernel/cmdline.js";
import { ACS_FLAG_NAMES, PCI_ACS_CR, PCI_ACS_RR, PCI_ACS_SV, PCI_ACS_UF } from "../regs/acs.js";
import type { Snapshot } from "../sources/snapshot.js";
import type { GasImage } from "../switchtec/gas-image.js";
import { busKey, formatBdf, parseBdf } from "../topology/address.js";
import { buildTopology } from "../topology/build.js";
import type { FunctionInput } from "../topology/build.js";
import { switchtecImage, switchtecTable } from "./switchtec-table.js";
import { buildConfig } from "./synth-config.js";
import type { SyntheticFunction } from "./synth-config.js";
import { parseYaml } from "./yaml-source.js";
import type { YamlProblem } from "./yaml-source.js";

/** device kinds a design may declare, with their header type and PCIe type */
const KINDS = {
  "host-bridge": { header: 0, pcie: undefined, cls: 0x060000 },
  conventional: { header: 0, pcie: undefined, cls: 0x000000 },
  endpoint: { header: 0, pcie: 0x0, cls: 0x000000 },
  "legacy-endpoint": { header: 0, pcie: 0x1, cls: 0x000000 },
  rciep: { header: 0, pcie: 0x9, cls: 0x000000 },
  rcec: { header: 0, pcie: 0xa, cls: 0x080700 },
  "root-port": { header: 1, pcie: 0x4, cls: 0x060400 },
  "upstream-port": { header: 1, pcie: 0x5, cls: 0x060400 },
  "downstream-port": { header: 1, pcie: 0x6, cls: 0x060400 },
  "pcie-to-pci": { header: 1, pcie: 0x7, cls: 0x060400 },
  "pci-to-pcie": { header: 1, pcie: 0x8, cls: 0x060400 },
  "pci-bridge": { header: 1, pcie: undefined, cls: 0x060400 },
} as const;

const hexId = (digits: number) =>
  z.union([z.number().int().min(0).max(16 ** digits - 1), z.string().regex(new RegExp(`^(0x)?[0-9a-fA-F]{1,${digits}}$`), `expected up to ${digits} hex digits`)]).transform((v) => (typeof v === "number" ? v : parseInt(v, 16)));

const acsFlags = z
  .string()
  .regex(new RegExp(`^\\s*(?:(?:${ACS_FLAG_NAMES.map(([n]) => n).join("|")})\\s*)+$`, "i"), `expected ACS flag names: ${ACS_FLAG_NAMES.map(([n]) => n).join(" ")}`)
  .transform((s) => s.trim().split(/\s+/).reduce((m, n) => m | ACS_FLAG_NAMES.find(([x]) => x === n.toUpperCase())![1], 0));

const device = z
  .object({
    bdf: z.string().refine((s) => parseBdf(s) !== undefined, "expected a PCI address [dddd:]bb:dd.f"),
    type: z.enum(Object.keys(KINDS) as [keyof typeof KINDS, ...(keyof typeof KINDS)[]]),
    id: z
      .string()
      .regex(/^[0-9a-fA-F]{4}:[0-9a-fA-F]{4}$/, "expected vendor:device in hex, e.g. 8086:1521")
      .optional(),
    subsystem: z.string().regex(/^[0-9a-fA-F]{4}:[0-9a-fA-F]{4}$/, "expected vendor:device in hex").optional(),
    class: z.string().regex(/^(0x)?([0-9a-fA-F]{4}|[0-9a-fA-F]{6})$/, "expected a class code: 4 or 6 hex digits, e.g. 0300 or 030000").optional(),
    multifunction: z.boolean().optional(),
    /** bridges: secondary bus, or [secondary, subordinate] */
    bus: z.union([hexId(2), z.tuple([hexId(2), hexId(2)])]).optional(),
    /** true: SV RR CR UF implemented; or the flag names implemented; false/absent: no capability */
    acs: z.union([z.boolean(), acsFlags]).optional(),
    phantom: z.number().int().min(0).max(3).optional(),
    ari: z.boolean().optional(),
    sriov: z
      .object({
        total: z.number().int().min(1).max(0xffff),
        num: z.number().int().min(0).max(0xffff).default(0),
        offset: z.number().int().min(1).max(0xffff),
        stride: z.number().int().min(0).max(0xffff).default(1),
        vf_device: hexId(4).optional(),
      })
      .strict()
      .optional(),
    driver: z.string().optional(),
    /** a Switchtec NT endpoint's partition table (switchtec-table.ts) */
    switchtec: switchtecTable.optional(),
  })
  .strict();

export const designSchema = z
  .object({
    schema: z.literal("iommu-atlas/design@1").optional(),
    description: z.string().optional(),
    kernel: z.union([z.string(), z.number()]).transform(String).optional(),
    cmdline: z.string().optional(),
    /** arm64: groups form at driver probe (the `driver` fields), ACS by firmware path */
    arch: z.enum(["x86", "arm64"]).optional(),
    /** arm64: acpi (IORT: ACS requested before the scan, the default) or devicetree (after it) */
    firmware: z.enum(["acpi", "devicetree"]).optional(),
    devices: z.array(device).min(1, "a design needs at least one device"),
  })
  .strict();

export type Design = z.output<typeof designSchema>;

export type DesignResult = { readonly ok: true; readonly snapshot: Snapshot; readonly design: Design } | { readonly ok: false; readonly problems: readonly YamlProblem[] };

const REQ_ACS = PCI_ACS_SV | PCI_ACS_RR | PCI_ACS_CR | PCI_ACS_UF;

/**
 * Reads a declared machine (YAML, schema iommu-atlas/design@1) into a
 * snapshot. Config space is synthesised from the declared facts, so a
 * design goes through the same decoder as a capture; ACS control is left
 * off, as firmware leaves it, and predictions model the kernel's boot.
 */
export function snapshotFromDesign(text: string): DesignResult {
  const parsed = parseYaml(text, designSchema);
  if (!parsed.ok) return parsed;
  const design = parsed.value;
  const problems: YamlProblem[] = [];

  // subordinate bus: given, or the highest bus below the bridge
  const bridges = design.devices
    .map((d, i) => ({ d, i, a: parseBdf(d.bdf)! }))
    .filter((x) => KINDS[x.d.type].header === 1);
  const secondaryOf = (x: (typeof bridges)[number]): number | undefined => (x.d.bus === undefined ? undefined : Array.isArray(x.d.bus) ? x.d.bus[0] : x.d.bus);
  const subordinate = new Map<number, number>();
  const bySecondary = new Map<string, (typeof bridges)[number]>();
  for (const b of bridges) {
    const s = secondaryOf(b);
    if (s === undefined) {
      problems.push({ line: parsed.lineOf(["devices", b.i]), path: `devices[${b.i}].bus`, message: "a bridge needs bus: <secondary bus number>" });
      continue;
    }
    bySecondary.set(busKey(b.a.segment, s), b);
  }
  const subOf = (b: (typeof bridges)[number], depth = 0): number => {
    if (Array.isArray(b.d.bus)) return b.d.bus[1];
    if (subordinate.has(b.i)) return subordinate.get(b.i)!;
    const s = secondaryOf(b)!;
    let max = s;
    for (const c of bridges) {
      if (c.a.segment === b.a.segment && c.a.bus === s && secondaryOf(c) !== undefined && depth < 256) max = Math.max(max, subOf(c, depth + 1));
    }
    subordinate.set(b.i, max);
    return max;
  };

  const inputs: FunctionInput[] = design.devices.map((d, i) => {
    const a = parseBdf(d.bdf)!;
    const kind = KINDS[d.type];
    const [vendor, dev] = d.id ? d.id.split(":").map((x) => parseInt(x, 16)) : [0x1234, 0x0000];
    const cls = d.class ? parseInt(d.class.replace(/^0x/, ""), 16) * (d.class.replace(/^0x/, "").length === 4 ? 0x100 : 1) : kind.cls;
    const bridge = bridges.find((b) => b.i === i);
    const sec = bridge ? secondaryOf(bridge) : undefined;
    const acsCap = d.acs === true ? REQ_ACS : typeof d.acs === "number" ? d.acs : undefined;
    const synth: SyntheticFunction = {
      vendor: vendor!,
      device: dev!,
      classCode: cls,
      headerType: kind.header,
      multifunction: d.multifunction ?? false,
      ...(sec !== undefined && bridge && { bus: { primary: a.bus, secondary: sec, subordinate: subOf(bridge) } }),
      ...(kind.pcie !== undefined && { pcieType: kind.pcie }),
      ...(d.phantom !== undefined && { phantom: d.phantom }),
      ...(acsCap !== undefined && kind.pcie !== undefined && { acs: { cap: acsCap, ctrl: 0 } }),
      ...(d.ari && { ari: { nextFunction: 0 }, ariForwarding: true }),
      ...(d.sriov && {
        sriov: { totalVFs: d.sriov.total, numVFs: d.sriov.num, offset: d.sriov.offset, stride: d.sriov.stride, vfDevice: d.sriov.vf_device ?? dev!, enabled: d.sriov.num > 0 },
      }),
      ...(d.subsystem && kind.header === 0 && { subsystem: { vendor: parseInt(d.subsystem.slice(0, 4), 16), device: parseInt(d.subsystem.slice(5), 16) } }),
    };
    if (acsCap !== undefined && kind.pcie === undefined) {
      problems.push({ line: parsed.lineOf(["devices", i, "acs"]), path: `devices[${i}].acs`, message: `a ${d.type} function has no extended config space, so no ACS capability` });
    }
    const { config, issues } = decodeConfig(buildConfig(synth), { complete: true });
    return { segment: a.segment, bus: a.bus, devfn: a.devfn, config, configIssues: issues, driver: d.driver };
  });
  const ntb = new Map<string, GasImage>();
  design.devices.forEach((d, i) => {
    if (!d.switchtec) return;
    const r = switchtecImage(d.switchtec, i, inputs[i]!.config, parsed);
    problems.push(...r.problems);
    const a = parseBdf(d.bdf)!;
    if (r.image) ntb.set(formatBdf(a.segment, a.bus, a.devfn), r.image);
  });
  if (problems.length > 0) return { ok: false, problems };
  const topology = buildTopology(inputs, { pcieScanAll: parseCmdline(design.cmdline ?? "").pcieScanAll });
  return {
    ok: true,
    design,
    snapshot: {
      source: "design",
      topology,
      kernelGroups: undefined,
      cmdline: design.cmdline,
      osrelease: design.kernel,
      acpi: {},
      ...(design.arch !== undefined && {
        platform: { arch: design.arch === "arm64" ? "aarch64" : "x86_64", ...(design.arch === "arm64" && { firmware: design.firmware ?? "acpi" }) },
      }),
      ...(ntb.size > 0 && { ntb }),
      notes: [],
    },
  };
}
