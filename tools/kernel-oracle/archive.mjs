// Reading a capture archive (tar.gz laid out like sys/... and proc/...) just far enough to check
// it: the kernel's IOMMU groups, the PCI devices, /proc/cmdline and the kernel release.

import { list } from "tar";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * @typedef {object} CaptureSummary
 * @property {Map<number, string[]>} groups group number -> sorted BDFs
 * @property {string[]} devices sorted BDFs of sys/bus/pci/devices
 * @property {string | null} cmdline
 * @property {string | null} osrelease
 */

const GROUP_RE = /^sys\/kernel\/iommu_groups\/(\d+)\/devices\/([0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7])$/;
const DEVICE_RE = /^sys\/bus\/pci\/devices\/([0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7])$/;

/**
 * @param {string | Uint8Array} archive a path or the tar.gz bytes
 * @returns {CaptureSummary}
 */
export function readCapture(archive) {
  let file = typeof archive === "string" ? archive : null;
  let tmp = null;
  if (file === null) {
    tmp = mkdtempSync(join(tmpdir(), "iommu-atlas-capture-"));
    file = join(tmp, "capture.tar.gz");
    writeFileSync(file, /** @type {Uint8Array} */ (archive));
  }
  /** @type {Map<number, string[]>} */
  const groups = new Map();
  /** @type {string[]} */
  const devices = [];
  /** @type {Record<string, Buffer[]>} */
  const texts = { "proc/cmdline": [], "proc/sys/kernel/osrelease": [] };
  try {
    list({
      file,
      sync: true,
      onReadEntry(entry) {
        const path = entry.path.replace(/^(\.\/)+/, "").replace(/^\/+/, "");
        const g = GROUP_RE.exec(path);
        const d = DEVICE_RE.exec(path);
        const text = texts[path];
        if (g) {
          const n = Number(g[1]);
          groups.set(n, [...(groups.get(n) ?? []), /** @type {string} */ (g[2])]);
        } else if (d) {
          devices.push(/** @type {string} */ (d[1]));
        }
        if (text !== undefined) entry.on("data", (/** @type {Buffer} */ c) => text.push(c));
        else entry.resume();
      },
    });
  } finally {
    if (tmp !== null) rmSync(tmp, { recursive: true, force: true });
  }
  for (const members of groups.values()) members.sort();
  const str = (/** @type {Buffer[]} */ chunks) => (chunks.length === 0 ? null : Buffer.concat(chunks).toString("utf8").trim());
  return {
    groups: new Map([...groups].sort((a, b) => a[0] - b[0])),
    devices: devices.sort(),
    cmdline: str(texts["proc/cmdline"] ?? []),
    osrelease: str(texts["proc/sys/kernel/osrelease"] ?? []),
  };
}

/**
 * Compares two sets of IOMMU groups.
 * @param {Map<number, string[]>} expected e.g. the recorded archive's
 * @param {Map<number, string[]>} actual e.g. the new boot's
 * @returns {{sameMembership: boolean, sameNumbers: boolean, differences: string[]}}
 */
export function compareGroups(expected, actual) {
  const key = (/** @type {string[]} */ m) => m.join(" ");
  const expSets = new Map([...expected].map(([n, m]) => [key(m), n]));
  const actSets = new Map([...actual].map(([n, m]) => [key(m), n]));
  /** @type {string[]} */
  const differences = [];
  for (const [members, n] of expSets) {
    if (!actSets.has(members)) differences.push(`only in expected: group ${n} {${members}}`);
  }
  for (const [members, n] of actSets) {
    if (!expSets.has(members)) differences.push(`only in actual: group ${n} {${members}}`);
  }
  const sameMembership = differences.length === 0;
  let sameNumbers = sameMembership;
  if (sameMembership) {
    for (const [members, n] of expSets) {
      const m = actSets.get(members);
      if (m !== n) {
        sameNumbers = false;
        differences.push(`group {${members}} is ${n} in expected, ${m} in actual`);
      }
    }
  }
  return { sameMembership, sameNumbers, differences };
}
