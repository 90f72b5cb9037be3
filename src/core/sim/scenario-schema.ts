/**
 * The scenario file (YAML, schema iommu-atlas/scenario@1) as zod sees it:
 * hosts with their topology and IOMMU programming, an NTB switch, and the
 * DMA transactions to replay. docs/scenario.md explains each field;
 * docs/schemas/scenario.schema.json must list the same ones
 * (SCENARIO_FIELDS, checked by a test).
 */
import { z } from "zod";
import { ACS_FLAG_NAMES } from "../regs/acs.js";
import { ADDRESS_WIDTHS } from "../program/page-table.js";
import { parseBdf } from "../topology/address.js";
import { LOG_FORMATS } from "./fault-log.js";
import { OUTCOME_KINDS, OUTCOME_REASONS } from "./outcome.js";

/** highest address the model keeps exact (JS numbers) */
export const MAX_ADDRESS = Number.MAX_SAFE_INTEGER;

const UNITS: Record<string, number> = { "": 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };
const QUANTITY = /^(0x[0-9a-f_]+|[0-9][0-9_]*)\s*(?:([kmgt])(?:i?b)?)?$/i;

/** `0x9000_0000`, `4096`, `64K`, `2MiB`, `1G`; undefined when it is none of these or not exact */
export function parseQuantity(text: string): number | undefined {
  const m = QUANTITY.exec(text.trim());
  if (!m) return undefined;
  const digits = m[1]!.replace(/_/g, "");
  const n = digits.toLowerCase().startsWith("0x") ? parseInt(digits.slice(2), 16) : parseInt(digits, 10);
  const v = n * UNITS[(m[2] ?? "").toLowerCase()]!;
  return Number.isSafeInteger(v) ? v : undefined;
}

const quantity = (what: string) =>
  z.unknown().transform((v, ctx) => {
    if (typeof v === "number") {
      if (Number.isSafeInteger(v) && v >= 0) return v;
      ctx.addIssue({ code: "custom", message: `${what}: expected a whole number from 0 to 2^53, not ${v}` });
      return z.NEVER;
    }
    const n = typeof v === "string" ? parseQuantity(v) : undefined;
    if (n === undefined) {
      ctx.addIssue({ code: "custom", message: `${what}: expected a number such as 0x90000000, 4096 or 64K, not ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return n;
  });

const address = quantity("address");
const size = quantity("size");

/** `[dddd:]bb:dd.f` */
const bdfText = z.string().refine((s) => parseBdf(s) !== undefined, { message: "expected a PCI address [dddd:]bb:dd.f in hex, e.g. 03:00.1" });
/** a requester ID `bb:dd.f` (a segment is allowed and ignored: requester IDs are 16 bits) */
const ridText = z.string().refine((s) => parseBdf(s) !== undefined, { message: "expected a requester ID bb:dd.f in hex, e.g. 03:04.2" });
/** a devfn `dd.f`, quoted so YAML keeps it text */
const DEVFN_RE = /^([0-9a-fA-F]{1,2})\.([0-7])$/;
const devfnText = z.unknown().transform((v, ctx) => {
  if (typeof v === "number") {
    ctx.addIssue({ code: "custom", message: 'quote the devfn ("04.2"): unquoted, YAML reads a number' });
    return z.NEVER;
  }
  const m = typeof v === "string" ? DEVFN_RE.exec(v.trim()) : null;
  if (!m || parseInt(m[1]!, 16) > 0x1f) {
    ctx.addIssue({ code: "custom", message: `expected a devfn dd.f in hex, e.g. "04.2", not ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  return (v as string).trim();
});

export function parseDevfnText(s: string): number {
  const m = DEVFN_RE.exec(s.trim())!;
  return (parseInt(m[1]!, 16) << 3) | Number(m[2]);
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const name = (what: string) => z.string().regex(NAME_RE, `${what}: 1–64 letters, digits or _ . - (starting with a letter or digit)`);

const FLAG_NAMES = ACS_FLAG_NAMES.map(([n]) => n);
/** ACS Control as flag names ("SV RR CR UF"), or "none" */
const acsCtrl = z
  .string()
  .refine(
    (s) => s.trim().toLowerCase() === "none" || s.trim() === "" || s.trim().split(/[\s,+]+/).every((f) => FLAG_NAMES.includes(f.toUpperCase() as (typeof FLAG_NAMES)[number])),
    { message: `expected ACS flag names (${FLAG_NAMES.join(" ")}) or "none"` },
  )
  .transform((s) =>
    s.trim().toLowerCase() === "none" || s.trim() === ""
      ? 0
      : s
          .trim()
          .split(/[\s,+]+/)
          .reduce((m, f) => m | ACS_FLAG_NAMES.find(([n]) => n === f.toUpperCase())![1], 0),
  );

const PERMS = { r: 1, read: 1, w: 2, write: 2, rw: 3, "read-write": 3 } as const;
const perm = z.enum(Object.keys(PERMS) as [keyof typeof PERMS, ...(keyof typeof PERMS)[]]).transform((p) => PERMS[p]);

const iommu = z.strictObject({
  /** intel (VT-d), amd (AMD-Vi), smmu (Arm SMMUv3), none (no translation) */
  arch: z.enum(["intel", "amd", "smmu", "none"]).optional(),
  /** VT-d table mode */
  mode: z.enum(["legacy", "scalable"]).optional(),
  /** input address width of domains: 39, 48 or 57 */
  address_width: z
    .number()
    .refine((n) => (ADDRESS_WIDTHS as readonly number[]).includes(n), { message: `expected ${ADDRESS_WIDTHS.join(", ")}` })
    .optional(),
  /** SMMUv3: default STEs abort (true) or bypass */
  disable_bypass: z.boolean().optional(),
  /** AMD: SNP on (Mode-0 DTEs with TV=1 are illegal) */
  snp: z.boolean().optional(),
});

const mapping = z.strictObject({ iova: address, paddr: address, size, perm: perm.default(3) });

const domain = z.strictObject({
  name: name("domain name"),
  kind: z.enum(["paging", "identity", "blocked"]).default("paging"),
  address_width: z
    .number()
    .refine((n) => (ADDRESS_WIDTHS as readonly number[]).includes(n), { message: `expected ${ADDRESS_WIDTHS.join(", ")}` })
    .optional(),
  mappings: z.array(mapping).default([]),
});

const attachment = z.strictObject({ bdf: bdfText, domain: name("domain name") });

const bar = z.strictObject({ bdf: bdfText, bar: z.number().int().min(0).max(5).optional(), base: address, size });

const host = z.strictObject({
  name: name("host name"),
  description: z.string().optional(),
  /** kernel release: which quirks exist, how faults are logged */
  kernel: z.union([z.string(), z.number()]).optional(),
  cmdline: z.string().optional(),
  log_format: z.enum(LOG_FORMATS).optional(),
  iommu: iommu.optional(),
  /** false: none of the kernel's DMA-alias quirks ran (a kernel without them, or to see what they fix) */
  alias_quirks: z.boolean().optional(),
  /** the root complex forwards a translated request to another device's BAR (peer-to-peer through the RC) */
  root_complex_p2p: z.boolean().optional(),
  /** the topology inline: a design's devices list (docs/design.md) */
  devices: z.array(z.unknown()).optional(),
  /** or a capture, sysfs folder or design file, relative to the scenario */
  source: z.string().min(1).optional(),
  /** ACS Control of a port as the kernel leaves it, by BDF: flag names or "none" */
  acs_ctrl: z.record(z.string(), acsCtrl).optional(),
  /** memory BARs that peer-to-peer requests can hit */
  bars: z.array(bar).default([]),
  domains: z.array(domain).default([]),
  attach: z.array(attachment).default([]),
});

const slot = z.strictObject({
  /** the local requester ID the slot admits; absent: an unprogrammed slot */
  rid: ridText.optional(),
  /** the proxy devfn the hardware gives this slot */
  proxy: devfnText.optional(),
  /** NTB_CTRL_REQ_ID_EN; default: true when rid is given */
  enabled: z.boolean().optional(),
});

const lutEntry = z.strictObject({
  index: z.number().int().min(0).max(511),
  target: z.number().int().min(0).max(47),
  xlate: address,
  enabled: z.boolean().default(true),
});

const window = z.strictObject({
  bar: z.number().int().min(0).max(5),
  base: address,
  size,
  kind: z.enum(["direct", "lut"]).default("direct"),
  /** direct: the partition the window leads to */
  target: z.number().int().min(0).max(47).optional(),
  /** direct: the address in the target partition's host that offset 0 becomes */
  xlate: address.optional(),
  /** lut: bytes per entry (the driver uses 64 KiB) */
  entry_size: size.optional(),
  entries: z.array(lutEntry).optional(),
});

const partition = z.strictObject({
  id: z.number().int().min(0).max(47),
  host: name("host name"),
  /** the NT endpoint of this partition, in its host */
  nt: bdfText,
  /** what req_id_table_size reads; default: the number of slots */
  table_size: z.number().int().min(0).max(0xffff).optional(),
  requester_ids: z.array(slot).max(512, "a requester-ID table holds at most 512 slots").default([]),
  windows: z.array(window).default([]),
});

const ntb = z.strictObject({
  chip: z.enum(["switchtec", "plx"]).default("switchtec"),
  partitions: z.array(partition).min(1, "an NTB needs at least one partition"),
});

const expectation = z.strictObject({
  outcome: z.enum(OUTCOME_KINDS).optional(),
  host: name("host name").optional(),
  rid: ridText.optional(),
  address: address.optional(),
  /** fault code ("0x02", 2) or name ("IO_PAGE_FAULT", "context-entry-not-present") */
  fault: z.union([z.number().int().min(0), z.string()]).optional(),
  reason: z.enum(OUTCOME_REASONS).optional(),
  translated: z.boolean().optional(),
  /** the domain whose mapping translated it last */
  domain: name("domain name").optional(),
  /** delivered to "memory" or to this function's BAR */
  to: z.union([z.literal("memory"), bdfText]).optional(),
  /** text that must appear in the outcome's kernel log lines */
  log: z.union([z.string(), z.array(z.string())]).optional(),
});

const transaction = z.strictObject({
  name: z.string().optional(),
  /** the host it starts on; may be left out when there is one */
  host: name("host name").optional(),
  /** "cpu", or the BDF of the function that issues it (a PF with vf: n for its VF) */
  from: z.string().min(1),
  vf: z.number().int().min(1).max(0xffff).optional(),
  phantom: z.number().int().min(1).max(7).optional(),
  /** a requester ID the source forges instead of its own */
  rid: ridText.optional(),
  /** emit even when Linux would not have enabled the source (a VF past the bus range) */
  force: z.boolean().optional(),
  access: z.enum(["write", "read"]).default("write"),
  address,
  size: size.default(64),
  expect: expectation.optional(),
});

export const scenarioSchema = z.strictObject({
  schema: z.literal("iommu-atlas/scenario@1").optional(),
  description: z.string().optional(),
  hosts: z.array(host).min(1, "a scenario needs at least one host"),
  ntb: ntb.optional(),
  transactions: z.array(transaction).min(1, "a scenario needs at least one transaction"),
  expect: z.strictObject({ warnings: z.array(z.string()).default([]) }).optional(),
});

export type ScenarioFile = z.output<typeof scenarioSchema>;
export type HostSpec = ScenarioFile["hosts"][number];
export type DomainSpec = HostSpec["domains"][number];
export type NtbSpec = NonNullable<ScenarioFile["ntb"]>;
export type PartitionSpec = NtbSpec["partitions"][number];
export type WindowSpec = PartitionSpec["windows"][number];
export type TransactionSpec = ScenarioFile["transactions"][number];
export type ExpectSpec = NonNullable<TransactionSpec["expect"]>;

/** the field names of each part (docs/schemas/scenario.schema.json must agree) */
export const SCENARIO_FIELDS = {
  scenario: Object.keys(scenarioSchema.shape),
  host: Object.keys(host.shape),
  iommu: Object.keys(iommu.shape),
  domain: Object.keys(domain.shape),
  mapping: Object.keys(mapping.shape),
  attachment: Object.keys(attachment.shape),
  bar: Object.keys(bar.shape),
  ntb: Object.keys(ntb.shape),
  partition: Object.keys(partition.shape),
  slot: Object.keys(slot.shape),
  window: Object.keys(window.shape),
  lutEntry: Object.keys(lutEntry.shape),
  transaction: Object.keys(transaction.shape),
  expect: Object.keys(expectation.shape),
} as const;
