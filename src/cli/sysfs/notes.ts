/**
 * Something a capture could not record or changed on purpose. Structured
 * data only; `describeNotes` turns a list into text.
 */
export type CaptureNote =
  /** `<root>/sys/bus/pci/devices` is missing or unreadable */
  | { readonly code: "no-pci-bus"; readonly path: string }
  /** config read returned fewer than 256 bytes (unprivileged reads stop at 64) */
  | { readonly code: "config-truncated"; readonly bdf: string; readonly bytes: number }
  /** a file or link that exists but could not be read; `reason` is an errno code */
  | { readonly code: "unreadable"; readonly path: string; readonly reason: string }
  /** a bus/pci/devices link that does not lead into sys/devices */
  | { readonly code: "link-outside"; readonly path: string; readonly target: string }
  /** the Device Serial Number was zeroed (redact) */
  | { readonly code: "dsn-zeroed"; readonly bdf: string }
  /** no sys/kernel/iommu_groups entries: no IOMMU active */
  | { readonly code: "no-iommu-groups" }
  /** neither a DMAR nor an IVRS ACPI table exists */
  | { readonly code: "no-iommu-table" }
  /** a Switchtec NT endpoint's resource0 could not be read (not root, or no plain reads): no excerpt */
  | { readonly code: "ntb-registers-unread"; readonly bdf: string; readonly reason: string };

type NoteOf<C extends CaptureNote["code"]> = Extract<CaptureNote, { code: C }>;

function ofCode<C extends CaptureNote["code"]>(notes: readonly CaptureNote[], code: C): NoteOf<C>[] {
  return notes.filter((n): n is NoteOf<C> => n.code === code);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** at most three items, then "…and N more" */
function some(items: readonly string[]): string {
  const head = items.slice(0, 3).join(", ");
  return items.length > 3 ? `${head} and ${items.length - 3} more` : head;
}

/** one line of text per kind of note, in a fixed order */
export function describeNotes(notes: readonly CaptureNote[]): string[] {
  const lines: string[] = [];
  for (const n of ofCode(notes, "no-pci-bus")) {
    lines.push(`no ${n.path}: not the root of a Linux sysfs (the folder holding sys/ and proc/)`);
  }
  const truncated = ofCode(notes, "config-truncated");
  if (truncated.length > 0) {
    lines.push(
      truncated.every((n) => n.bytes === 64)
        ? `not root: config space beyond 64 bytes is unreadable (${plural(truncated.length, "function")}); run as root for capabilities (ACS, PCIe)`
        : `config space shorter than 256 bytes on ${plural(truncated.length, "function")}: ${some(truncated.map((n) => `${n.bdf} (${n.bytes} bytes)`))}`,
    );
  }
  const unreadable = ofCode(notes, "unreadable");
  if (unreadable.length > 0) {
    const hint = unreadable.some((n) => n.reason === "EACCES") ? "; run as root to capture them" : "";
    lines.push(
      `${plural(unreadable.length, "file")} unreadable, skipped: ${some(unreadable.map((n) => `${n.path} (${n.reason})`))}${hint}`,
    );
  }
  const outside = ofCode(notes, "link-outside");
  if (outside.length > 0) {
    lines.push(`${plural(outside.length, "device link")} outside sys/devices, skipped: ${some(outside.map((n) => `${n.path} -> ${n.target}`))}`);
  }
  if (notes.some((n) => n.code === "no-iommu-groups")) {
    lines.push("no IOMMU groups: the kernel runs without an IOMMU (check VT-d / AMD-Vi in firmware and intel_iommu=on)");
  }
  if (notes.some((n) => n.code === "no-iommu-table")) {
    lines.push("no DMAR or IVRS ACPI table: the firmware describes no IOMMU");
  }
  const ntb = ofCode(notes, "ntb-registers-unread");
  if (ntb.length > 0) {
    // Linux gives a memory BAR's resource file only an mmap method: plain reads fail with EIO
    const hint = ntb.some((n) => n.reason === "EACCES" || n.reason === "EPERM")
      ? "run as root to read them"
      : ntb.some((n) => n.reason === "EIO")
        ? "EIO: this kernel maps resource0 but does not let it be read"
        : "capture as root on the host with the NT function";
    lines.push(
      `Switchtec NT registers (resource0) unreadable on ${plural(ntb.length, "function")}: ${some(ntb.map((n) => `${n.bdf} (${n.reason})`))}; proxy aliases stay unknown; ${hint}`,
    );
  }
  const zeroed = ofCode(notes, "dsn-zeroed");
  if (zeroed.length > 0) {
    lines.push(`redacted: device serial number zeroed on ${plural(zeroed.length, "function")}`);
  }
  return lines;
}
