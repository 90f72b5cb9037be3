import type { AcsEdit, PredictOptions } from "../core/iommu/predict.js";
import { kernelWithoutGroups, parseKernelVersion } from "../core/kernel/version.js";
import { ACS_FLAG_NAMES } from "../core/regs/acs.js";
import { normalizeBdf } from "../core/topology/address.js";
import { UsageError } from "./errors.js";

/** the options every prediction command takes */
export interface PredictFlags {
  kernel?: string | undefined;
  cmdline?: string | undefined;
  boot?: boolean | undefined;
  acs?: string[] | undefined;
  hotplug?: boolean | undefined;
  arch?: string | undefined;
  firmware?: string | undefined;
  bind?: string[] | undefined;
}

/** `--bind BDF=DRIVER` */
export function parseBind(text: string): [string, string] {
  const m = /^([^=]+)=([A-Za-z0-9_.-]+)$/.exec(text.trim());
  const bdf = m ? normalizeBdf(m[1]!) : undefined;
  if (!m || !bdf) throw new UsageError(`--bind '${text}': expected BDF=DRIVER, e.g. 0000:01:00.0=vfio-pci`);
  return [bdf, m[2]!];
}

export function parseAcsEdit(text: string): AcsEdit {
  const m = /^([^=]+)=((?:[+-][A-Za-z]{2})+)$/.exec(text.trim());
  const bdf = m ? normalizeBdf(m[1]!) : undefined;
  if (!m || !bdf) throw new UsageError(`--acs '${text}': expected BDF=+FLAG-FLAG…, e.g. 0000:00:1c.0=+RR+CR (flags ${ACS_FLAG_NAMES.map(([n]) => n).join(" ")})`);
  let set = 0;
  let clear = 0;
  for (const [, sign, name] of m[2]!.matchAll(/([+-])([A-Za-z]{2})/g)) {
    const bit = ACS_FLAG_NAMES.find(([n]) => n === name!.toUpperCase())?.[1];
    if (bit === undefined) throw new UsageError(`--acs '${text}': unknown ACS flag '${name}' (known: ${ACS_FLAG_NAMES.map(([n]) => n).join(" ")})`);
    if (sign === "+") set |= bit;
    else clear |= bit;
  }
  return { bdf, set, clear };
}

export function predictOptions(flags: PredictFlags): PredictOptions {
  let kernel;
  if (flags.kernel !== undefined) {
    kernel = parseKernelVersion(flags.kernel);
    if (!kernel) throw new UsageError(`--kernel '${flags.kernel}': expected a version such as 6.12.118, 6.1 or 5.10`);
    const old = kernelWithoutGroups(kernel);
    if (old) throw new UsageError(`--kernel '${flags.kernel}': ${old}`);
  }
  if (flags.arch !== undefined && flags.arch !== "x86" && flags.arch !== "arm64") throw new UsageError(`--arch '${flags.arch}': expected x86 or arm64`);
  if (flags.firmware !== undefined && flags.firmware !== "acpi" && flags.firmware !== "devicetree") {
    throw new UsageError(`--firmware '${flags.firmware}': expected acpi or devicetree`);
  }
  return {
    kernel,
    ...(flags.arch !== undefined && { arch: flags.arch }),
    ...(flags.firmware !== undefined && { firmware: flags.firmware }),
    ...(flags.bind !== undefined && { binds: new Map(flags.bind.map(parseBind)) }),
    cmdline: flags.cmdline,
    acsMode: flags.boot ? "boot" : undefined,
    acsEdits: (flags.acs ?? []).map(parseAcsEdit),
    hotplug: flags.hotplug,
  };
}

export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];
