/**
 * The commands that carry a safe plan out: SR-IOV first, then driver
 * overrides (driverctl, or plain sysfs), then what each guest's VM
 * definition needs (libvirt <hostdev>, QEMU -device).
 */
import { parseBdf } from "../topology/address.js";
import type { Topology } from "../topology/model.js";
import type { GuestPlan } from "./plan.js";
import type { Resolution } from "./resolve.js";
import type { SriovPlan } from "./sriov.js";

export interface GuestActions {
  readonly guest: string;
  readonly functions: readonly string[];
  /** one <hostdev> element per function */
  readonly libvirt: readonly string[];
  /** `-device vfio-pci,host=…` per function */
  readonly qemu: readonly string[];
}

export interface Actions {
  /** shell lines that set the VF counts, before anything binds a VF */
  readonly sriov: readonly string[];
  /** persistent overrides with driverctl */
  readonly driverctl: readonly string[];
  /** the same with plain sysfs writes (lost at reboot) */
  readonly sysfs: readonly string[];
  readonly guests: readonly GuestActions[];
}

const DEV = "/sys/bus/pci/devices";
const h = (n: number, w: number): string => `0x${n.toString(16).padStart(w, "0")}`;

/** libvirt's <hostdev> for one PCI function */
export function libvirtHostdev(bdf: string): string {
  const a = parseBdf(bdf)!;
  return [
    "<hostdev mode='subsystem' type='pci' managed='yes'>",
    "  <source>",
    `    <address domain='${h(a.segment, 4)}' bus='${h(a.bus, 2)}' slot='${h(a.devfn >> 3, 2)}' function='${h(a.devfn & 7, 1)}'/>`,
    "  </source>",
    "</hostdev>",
  ].join("\n");
}

export const qemuDevice = (bdf: string): string => `-device vfio-pci,host=${bdf}`;

export interface ActionInput {
  readonly topology: Topology;
  readonly guests: readonly GuestPlan[];
  readonly resolution: Resolution;
  readonly sriov: readonly SriovPlan[];
}

export function buildActions(input: ActionInput): Actions {
  const { topology, resolution } = input;
  const guestIndex = new Map(input.guests.map((g, i) => [g.name, i]));
  const byGuest = (bdf: string): number => {
    const g = resolution.guestOf.get(bdf);
    return g === undefined ? input.guests.length : guestIndex.get(g)!;
  };
  const changes = [...resolution.wanted.keys()].sort((a, b) => byGuest(a) - byGuest(b) || (a < b ? -1 : a > b ? 1 : 0));

  const sriov: string[] = [];
  for (const p of input.sriov) {
    if (p.request.numVfs === p.currentVfs) continue;
    if (p.vfs.some((v) => resolution.guestOf.has(v.bdf))) sriov.push(`echo 0 > ${DEV}/${p.pf}/sriov_drivers_autoprobe`);
    // the kernel takes a new count only from zero
    if (p.currentVfs > 0 && p.request.numVfs > 0) sriov.push(`echo 0 > ${DEV}/${p.pf}/sriov_numvfs`);
    sriov.push(`echo ${p.request.numVfs} > ${DEV}/${p.pf}/sriov_numvfs`);
  }

  const driverctl = changes.map((bdf) => `driverctl set-override ${bdf} ${resolution.wanted.get(bdf)!}`);
  const sysfs: string[] = [];
  const modules = [...new Set(changes.map((b) => resolution.wanted.get(b)!))].filter((d) => d !== "pcieport");
  for (const m of modules) sysfs.push(`modprobe ${m}`);
  for (const bdf of changes) {
    const want = resolution.wanted.get(bdf)!;
    const now = topology.functions.get(bdf)?.driver;
    if (now === want) continue;
    sysfs.push(`echo ${want} > ${DEV}/${bdf}/driver_override`);
    const unbind = `echo ${bdf} > ${DEV}/${bdf}/driver/unbind`;
    sysfs.push(now === undefined ? `[ -e ${DEV}/${bdf}/driver ] && ${unbind}` : unbind);
    sysfs.push(`echo ${bdf} > /sys/bus/pci/drivers_probe`);
  }

  const guests = input.guests.map((g) => {
    const functions = [...resolution.guestOf].filter(([, name]) => name === g.name).map(([bdf]) => bdf).sort();
    return { guest: g.name, functions, libvirt: functions.map(libvirtHostdev), qemu: functions.map(qemuDevice) };
  });
  return { sriov, driverctl, sysfs, guests };
}
