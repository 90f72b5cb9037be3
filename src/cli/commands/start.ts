import { existsSync } from "node:fs";
import { BUNDLED_EXAMPLE, loadLive } from "../load.js";
import type { Output } from "../output.js";
import { groups } from "./groups.js";

/**
 * `npm start`: the main job on this host. When the host has no IOMMU
 * groups, say so in one line and show the bundled real capture instead.
 */
export async function start(io: Output): Promise<number> {
  const live = existsSync("/sys/bus/pci/devices") ? await loadLive() : undefined;
  if (live && live.snapshot.kernelGroups) return groups({ verbose: true }, io);
  io.out(`This host has no IOMMU groups (no IOMMU, or it is off); showing the bundled capture ${BUNDLED_EXAMPLE.replace(process.cwd() + "/", "")} instead.`);
  return groups({ source: BUNDLED_EXAMPLE, verbose: true }, io);
}
