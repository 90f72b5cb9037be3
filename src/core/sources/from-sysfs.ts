import { decodeConfig } from "../config/decode.js";
import { PCI_CFG_SPACE_SIZE } from "../regs/header.js";
import { basename, listDir, readText, resolveLink } from "../fs/file-tree.js";
import type { FileTree } from "../fs/file-tree.js";
import { EXCERPT_FILE, parseExcerpt } from "../switchtec/excerpt.js";
import type { GasImage } from "../switchtec/gas-image.js";
import { busKey, formatBdf, parseBdf } from "../topology/address.js";
import { buildTopology } from "../topology/build.js";
import type { FunctionInput } from "../topology/build.js";
import type { RootBusAcpi, Snapshot, SnapshotNote } from "./snapshot.js";

const PCI_DEVICES = "sys/bus/pci/devices";
const GROUPS = "sys/kernel/iommu_groups";

function hexFile(tree: FileTree, path: string): number | undefined {
  const t = readText(tree, path);
  if (t === undefined || !/^(0x)?[0-9a-fA-F]+$/.test(t)) return undefined;
  return parseInt(t, 16);
}

/** reads the kernel's groups from `sys/kernel/iommu_groups/<n>/devices/<bdf>` */
export function readKernelGroups(tree: FileTree): Map<number, string[]> | undefined {
  const ids = listDir(tree, GROUPS).filter((n) => /^\d+$/.test(n));
  if (ids.length === 0) return undefined;
  const groups = new Map<number, string[]>();
  for (const id of ids.map(Number).sort((a, b) => a - b)) {
    groups.set(id, listDir(tree, `${GROUPS}/${id}/devices`).filter((n) => parseBdf(n) !== undefined));
  }
  return groups;
}

/** builds a snapshot from a sysfs-shaped file tree (live, folder or capture archive) */
export function snapshotFromSysfs(tree: FileTree): Snapshot {
  const notes: SnapshotNote[] = [];
  const inputs: FunctionInput[] = [];
  const ntb = new Map<string, GasImage>();
  let unprivileged = 0;
  const kernelGroups = readKernelGroups(tree);
  const listed = new Map<string, number>();
  for (const [id, members] of kernelGroups ?? []) for (const m of members) listed.set(m, id);

  for (const name of listDir(tree, PCI_DEVICES)) {
    const addr = parseBdf(name);
    if (!addr) continue;
    const link = `${PCI_DEVICES}/${name}`;
    const dir = resolveLink(tree, link) ?? link;
    const cfgEntry = tree.get(`${dir}/config`);
    const bytes = cfgEntry?.kind === "file" ? cfgEntry.data : new Uint8Array(0);
    // a root read returns the kernel's whole cfg_size (256 or 4096); less means unprivileged
    const complete = bytes.byteLength >= PCI_CFG_SPACE_SIZE;
    if (bytes.byteLength > 0 && !complete) unprivileged++;
    const { config, issues } = decodeConfig(bytes, { complete });
    const driverLink = resolveLink(tree, `${dir}/driver`);
    const groupLink = resolveLink(tree, `${dir}/iommu_group`);
    const physfnLink = resolveLink(tree, `${dir}/physfn`);
    const kernelGroup = groupLink !== undefined ? Number(basename(groupLink)) : listed.get(name);
    if (groupLink !== undefined && listed.size > 0 && listed.get(name) !== kernelGroup) {
      notes.push({ code: "group-link-mismatch", bdf: name, link: kernelGroup!, listed: listed.get(name) });
    }
    const cls = hexFile(tree, `${dir}/class`);
    // behind an Intel VMD the function's sysfs path runs through the VMD endpoint, in another PCI domain
    const realDmaDev = dir
      .split("/")
      .slice(0, -1)
      .reverse()
      .find((seg) => {
        const a = parseBdf(seg);
        return a !== undefined && a.segment !== addr.segment;
      });
    const excerpt = tree.get(`${dir}/${EXCERPT_FILE}`);
    if (excerpt?.kind === "file") ntb.set(formatBdf(addr.segment, addr.bus, addr.devfn), parseExcerpt(excerpt.data));
    inputs.push({
      segment: addr.segment,
      bus: addr.bus,
      devfn: addr.devfn,
      config,
      configIssues: issues,
      ids: {
        vendor: hexFile(tree, `${dir}/vendor`),
        device: hexFile(tree, `${dir}/device`),
        subsystemVendor: hexFile(tree, `${dir}/subsystem_vendor`),
        subsystemDevice: hexFile(tree, `${dir}/subsystem_device`),
        classCode: cls,
        revision: hexFile(tree, `${dir}/revision`),
      },
      driver: driverLink === undefined ? undefined : basename(driverLink),
      kernelGroup: Number.isFinite(kernelGroup) ? kernelGroup : undefined,
      physfn: physfnLink === undefined ? undefined : basename(physfnLink),
      realDmaDev,
    });
  }
  if (inputs.length === 0) notes.push({ code: "no-pci-devices" });
  if (unprivileged > 0) notes.push({ code: "config-unprivileged", functions: unprivileged });
  if (!kernelGroups) notes.push({ code: "no-iommu-groups" });
  const file = (p: string): Uint8Array | undefined => {
    const e = tree.get(p);
    return e?.kind === "file" ? e.data : undefined;
  };
  const rootBuses = readRootBuses(tree);
  const dmar = file("sys/firmware/acpi/tables/DMAR");
  const ivrs = file("sys/firmware/acpi/tables/IVRS");
  const iort = file("sys/firmware/acpi/tables/IORT");
  const arch = readText(tree, "proc/sys/kernel/arch");
  const deviceTree = file("sys/firmware/devicetree/base/compatible") !== undefined;
  const firmware = dmar || ivrs || iort ? "acpi" : deviceTree ? "devicetree" : undefined;
  const iommus = listDir(tree, "sys/class/iommu").sort();
  const procModules = readText(tree, "proc/modules");
  const modules = procModules === undefined ? undefined : procModules.split("\n").map((l) => l.split(" ")[0]!).filter((m) => m !== "").reverse();
  const driverModules = new Map<string, string>();
  for (const d of listDir(tree, "sys/bus/pci/drivers")) {
    const m = resolveLink(tree, `sys/bus/pci/drivers/${d}/module`);
    if (m !== undefined) driverModules.set(d, basename(m));
  }
  return {
    source: "sysfs",
    topology: buildTopology(inputs, { kernelView: true, ...(rootBuses && { rootOrder: acpiRootOrder(rootBuses) }) }),
    kernelGroups,
    cmdline: readText(tree, "proc/cmdline"),
    osrelease: readText(tree, "proc/sys/kernel/osrelease"),
    kernelVersion: [readText(tree, "proc/sys/kernel/version"), readText(tree, "proc/version_signature")].filter((t) => t !== undefined).join("\n") || undefined,
    acpi: { ...(dmar && { dmar }), ...(ivrs && { ivrs }), ...(iort && { iort }) },
    ...((arch !== undefined || firmware !== undefined || iommus.length > 0 || modules !== undefined) && {
      platform: {
        ...(arch !== undefined && arch !== "" && { arch }),
        ...(firmware && { firmware }),
        ...(iommus.length > 0 && { iommus }),
        ...(modules !== undefined && { modules }),
        ...(driverModules.size > 0 && { driverModules }),
      },
    }),
    ...(ntb.size > 0 && { ntb }),
    ...(rootBuses && { rootBuses }),
    notes,
  };
}

/** each root bus's ACPI host bridge from its `firmware_node` link; undefined when no root bus has one */
export function readRootBuses(tree: FileTree): Map<string, RootBusAcpi> | undefined {
  const out = new Map<string, RootBusAcpi>();
  for (const name of listDir(tree, "sys/devices")) {
    const m = /^pci([0-9a-f]{4}):([0-9a-f]{2})$/.exec(name);
    const node = m ? resolveLink(tree, `sys/devices/${name}/firmware_node`) : undefined;
    const id = node === undefined ? undefined : /^([A-Z0-9_]+):(\d+)$/.exec(basename(node));
    if (!m || !node || !id) continue;
    out.set(busKey(parseInt(m[1]!, 16), parseInt(m[2]!, 16)), {
      node: basename(node),
      hid: readText(tree, `${node}/hid`) ?? id[1]!,
      instance: Number(id[2]),
      uid: readText(tree, `${node}/uid`),
      path: readText(tree, `${node}/path`),
    });
  }
  return out.size > 0 ? out : undefined;
}

/**
 * Root buses in the order the kernel scans them: ACPI namespace order, which
 * the instance numbers of one _HID follow (PNP0A08:00, :01, …). Between
 * different _HIDs the instance numbers say nothing; bus numbers decide there.
 */
export function acpiRootOrder(rootBuses: ReadonlyMap<string, RootBusAcpi>): string[] {
  return [...rootBuses].sort(([ka, a], [kb, b]) => a.instance - b.instance || (ka < kb ? -1 : ka > kb ? 1 : 0)).map(([k]) => k);
}
