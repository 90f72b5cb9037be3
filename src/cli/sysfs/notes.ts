/**
 * Something a capture could not record or changed on purpose. Structured
 * data only; `describeNotes` turns a list into text.
 */
export type CaptureNote =
  /** `<root>/sys/bus/pci/devices` is missing or unreadable */
  | { readonly code: "no-pci-bus"; readonly path: string }
  /** config read returned fewer than 256 bytes (unprivileged reads stop at 64) */
  | { readonly code: "config-truncated"; readonly bdf: string; readonly bytes: number }
  /** the config file's size claimed more bytes than a read gave (and at least 256 were read) */
  | { readonly code: "config-short-read"; readonly bdf: string; readonly bytes: number; readonly claimed: number }
  /** a function removed while the capture read it: nothing of it is kept */
  | { readonly code: "function-vanished"; readonly bdf: string }
  /** an IOMMU group lists a function the capture did not find (added while the capture ran) */
  | { readonly code: "group-member-uncaptured"; readonly bdf: string; readonly group: string }
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
  /**
   * a Switchtec NT endpoint's BAR0 registers could be read by neither path
   * (ntb-registers.ts): no excerpt. `reason`: errno code of the resource0
   * read; `devMem`: errno code of the /dev/mem read, or NO_MEM_BAR when the
   * `resource` file gives BAR0 no memory address (/dev/mem not tried)
   */
  | { readonly code: "ntb-registers-unread"; readonly bdf: string; readonly reason: string; readonly devMem: string }
  /** the ntb_info bytes read back as all ones: the function does not decode its BAR; no excerpt */
  | { readonly code: "ntb-registers-all-ones"; readonly bdf: string; readonly source: NtbReadSource };

/** the read path that gave the bytes */
export type NtbReadSource = "resource0" | "/dev/mem";

/** `devMem` of an ntb-registers-unread note when /dev/mem was not tried */
export const NO_MEM_BAR = "no-mem-bar";

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
  const short = ofCode(notes, "config-short-read");
  if (short.length > 0) {
    lines.push(`config space read shorter than its file claims on ${plural(short.length, "function")}: ${some(short.map((n) => `${n.bdf} (${n.bytes} of ${n.claimed} bytes)`))}; the device may have stopped answering`);
  }
  const vanished = ofCode(notes, "function-vanished");
  if (vanished.length > 0) {
    lines.push(`${plural(vanished.length, "function")} removed while the capture ran, left out: ${some(vanished.map((n) => n.bdf))}; capture again once the machine is still`);
  }
  const uncaptured = ofCode(notes, "group-member-uncaptured");
  if (uncaptured.length > 0) {
    lines.push(`${plural(uncaptured.length, "function")} listed in IOMMU groups but not captured (added while the capture ran): ${some(uncaptured.map((n) => `${n.bdf} (group ${n.group})`))}; capture again once the machine is still`);
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
    const devMem = (n: NoteOf<"ntb-registers-unread">): string => (n.devMem === NO_MEM_BAR ? "/dev/mem not tried" : `/dev/mem ${n.devMem}`);
    const hints: string[] = [];
    if (ntb.some((n) => n.reason === "EACCES" || n.devMem === "EACCES")) hints.push("run as root");
    if (ntb.some((n) => n.devMem === "EPERM")) {
      hints.push(
        "/dev/mem refused: CONFIG_STRICT_DEVMEM with CONFIG_IO_STRICT_DEVMEM keeps it out of a BAR a driver holds (boot once with iomem=relaxed), or the kernel is locked down (Secure Boot)",
      );
    }
    if (ntb.some((n) => n.devMem === "EFAULT")) hints.push("/dev/mem reads stop at the top of RAM and BAR0 lies above it");
    if (ntb.some((n) => n.devMem === "ENOENT")) hints.push("no dev/mem below the capture root");
    if (ntb.some((n) => n.devMem === NO_MEM_BAR)) hints.push("the resource file gives BAR0 no memory address");
    hints.push("else declare the partition table in a design file (switchtec: key, docs/design.md)");
    lines.push(
      `Switchtec NT registers unreadable on ${plural(ntb.length, "function")}: ${some(ntb.map((n) => `${n.bdf} (resource0 ${n.reason}, ${devMem(n)})`))}; proxy aliases stay unknown; ${hints.join("; ")}`,
    );
  }
  const ones = ofCode(notes, "ntb-registers-all-ones");
  if (ones.length > 0) {
    lines.push(
      `Switchtec NT registers read as all ones on ${plural(ones.length, "function")}: ${some(ones.map((n) => `${n.bdf} (${n.source})`))}; proxy aliases stay unknown; ` +
        "the function does not decode its BAR (memory space off, or powered down): bind the switchtec driver or enable it (echo 1 > /sys/bus/pci/devices/<bdf>/enable), then capture again",
    );
  }
  const zeroed = ofCode(notes, "dsn-zeroed");
  if (zeroed.length > 0) {
    lines.push(`redacted: device serial number zeroed on ${plural(zeroed.length, "function")}`);
  }
  return lines;
}
