import type { PciFunction, Topology } from "../topology/model.js";
import { busKey, devfnOf } from "../topology/address.js";

/**
 * One entry of a kernel device list (pci_dev_str_match): either
 * `[dddd:]bb:dd.f[/dd.f]*` (the path form follows bridges from the given
 * bus) or `pci:vvvv:dddd[:ssss:ssss]` with 0 as a wildcard.
 */
export type DevSpec =
  | { readonly kind: "path"; readonly segment: number; readonly bus: number; readonly path: readonly number[] }
  | { readonly kind: "ids"; readonly vendor: number; readonly device: number; readonly subsystemVendor: number; readonly subsystemDevice: number };

/** parses one entry; a string error says why it is not one */
export function parseDevSpec(text: string): DevSpec | string {
  const t = text.trim();
  if (t.startsWith("pci:")) {
    const parts = t.slice(4).split(":");
    if (parts.length < 2 || parts.length > 4 || parts.some((p) => !/^[0-9a-fA-F]{1,4}$/.test(p))) return `bad id form '${t}'`;
    const [v, d, sv, sd] = parts.map((p) => parseInt(p, 16));
    return { kind: "ids", vendor: v!, device: d!, subsystemVendor: sv ?? 0, subsystemDevice: sd ?? 0 };
  }
  const m = /^(?:([0-9a-fA-F]{1,4}):)?([0-9a-fA-F]{1,2}):((?:[0-9a-fA-F]{1,2}\.[0-7])(?:\/[0-9a-fA-F]{1,2}\.[0-7])*)$/.exec(t);
  if (!m) return `bad device address '${t}'`;
  const path: number[] = [];
  for (const step of m[3]!.split("/")) {
    const [slot, fn] = step.split(".");
    const s = parseInt(slot!, 16);
    if (s > 0x1f) return `bad slot in '${t}'`;
    path.push(devfnOf(s, Number(fn)));
  }
  return { kind: "path", segment: m[1] ? parseInt(m[1], 16) : 0, bus: parseInt(m[2]!, 16), path };
}

/** true when the entry names this function */
export function devSpecMatches(spec: DevSpec, fn: PciFunction, topology: Topology): boolean {
  if (spec.kind === "ids") {
    const ok = (want: number, have: number | undefined): boolean => want === 0 || want === have;
    return ok(spec.vendor, fn.vendor) && ok(spec.device, fn.device) && ok(spec.subsystemVendor, fn.subsystemVendor) && ok(spec.subsystemDevice, fn.subsystemDevice);
  }
  if (spec.segment !== fn.segment) return false;
  // walk the path down from the named bus through each bridge's secondary bus
  let bus = spec.bus;
  for (let i = 0; i < spec.path.length; i++) {
    const devfn = spec.path[i]!;
    if (i === spec.path.length - 1) return bus === fn.bus && devfn === fn.devfn;
    const b = topology.buses.get(busKey(spec.segment, bus));
    const hop = b?.functions.map((x) => topology.functions.get(x)!).find((f) => f.devfn === devfn);
    if (hop?.secondary === undefined) return false;
    bus = hop.secondary;
  }
  return false;
}

/** splits a device list on ';' or ',' and parses each entry */
export function parseDevList(text: string): { specs: DevSpec[]; errors: string[] } {
  const specs: DevSpec[] = [];
  const errors: string[] = [];
  for (const part of text.split(/[;,]/)) {
    if (part.trim() === "") continue;
    const r = parseDevSpec(part);
    if (typeof r === "string") {
      errors.push(r);
      break; // the kernel stops at the first parse error
    }
    specs.push(r);
  }
  return { specs, errors };
}
