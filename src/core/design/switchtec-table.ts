/**
 * The `switchtec:` key of a design device: a Switchtec NT endpoint's
 * partition table, turned into the same BAR0 image a capture excerpts.
 *
 *   switchtec:
 *     own_partition: 1              # ntb_info.partition_id
 *     partitions:                   # peers with an NT endpoint
 *       0: ["10.0", "10.1"]         # proxy devfns in table-slot order, quoted
 *       2: { proxy_ids: [0x111], table_size: 0 }   # raw entries; a size register that disagrees
 *     ntp0_target_low: 0x0          # BAR0 0x10024, read by the kernel as ep_map's high word
 */
import type { Document } from "yaml";
import { isScalar } from "yaml";
import { z } from "zod";
import type { DecodedConfig } from "../config/decode.js";
import { imageFromPartitions, proxyIdEntry } from "../switchtec/from-partitions.js";
import { dotPath } from "./yaml-source.js";
import type { PartitionSpec } from "../switchtec/from-partitions.js";
import type { GasImage } from "../switchtec/gas-image.js";
import type { YamlProblem } from "./yaml-source.js";

/** a proxy requester ID: devfn "10.0", or a raw req_id_table dword (number or "0x00000101") */
const proxyId = z.union([
  z.number().int().min(0).max(0xffffffff),
  z.string().refine((s) => proxyIdEntry(s) !== undefined, "expected a proxy devfn like 10.0 or a raw table entry like 0x00000101"),
]);
const proxyIds = z.array(proxyId).max(512, "a requester-ID table holds at most 512 entries");
const partition = z.union([proxyIds, z.object({ proxy_ids: proxyIds.default([]), table_size: z.number().int().min(0).max(0xffff).optional() }).strict()]);
const PARTITION_KEY = /^(\d|[1-5]\d|6[0-3])$/;

export const switchtecTable = z
  .object({
    own_partition: z.number().int().min(0).max(63),
    partitions: z.record(z.string(), partition).superRefine((rec, ctx) => {
      for (const k of Object.keys(rec)) {
        if (!PARTITION_KEY.test(k)) ctx.addIssue({ code: "custom", path: [k], message: `expected a partition number 0..63, not ${k}` });
      }
    }),
    ntp0_target_low: z
      .union([z.number().int().min(0).max(0xffffffff), z.string().regex(/^(0x)?[0-9a-fA-F]{1,8}$/, "expected up to 8 hex digits")])
      .transform((v) => (typeof v === "number" ? v : parseInt(v, 16)))
      .optional(),
  })
  .strict();

export type SwitchtecTable = z.output<typeof switchtecTable>;

/** the Switchtec vendors and the NT endpoint class (without prog-if) the quirk rows match */
const SWITCHTEC_VENDORS: readonly number[] = [0x11f8, 0x1055];
const NT_CLASS = 0x0680;
const DEVFN_LIKE = /^[0-9a-fA-F]{1,2}\.[0-7]$/;

/** what the design parser knows about the document, for problem lines */
export interface DesignDoc {
  readonly doc: Document;
  readonly lineOf: (path: readonly (string | number)[]) => number;
}

/**
 * The register image of device `i`'s table, or problems: the device is not
 * a Switchtec NT endpoint, or a devfn was left unquoted (YAML reads 10.0
 * as the number 10, which would be taken as a raw entry).
 */
export function switchtecImage(table: SwitchtecTable, i: number, config: DecodedConfig | undefined, y: DesignDoc): { image?: GasImage; problems: YamlProblem[] } {
  const at = ["devices", i, "switchtec"] as const;
  const problems: YamlProblem[] = [];
  if (!config || !SWITCHTEC_VENDORS.includes(config.vendor) || config.classCode >> 8 !== NT_CLASS) {
    problems.push({ line: y.lineOf(at), path: `devices[${i}].switchtec`, message: "only a Switchtec NT endpoint has a partition table: id 11f8:xxxx or 1055:xxxx and class 068000" });
    return { problems };
  }
  const partitions: Record<number, PartitionSpec> = {};
  for (const [p, v] of Object.entries(table.partitions)) {
    // a YAML key 0 is the number 0 unless written "0"
    const key = y.doc.hasIn([...at, "partitions", Number(p)]) ? Number(p) : p;
    const list = Array.isArray(v) ? ["partitions", key] : ["partitions", key, "proxy_ids"];
    const ids = Array.isArray(v) ? v : v.proxy_ids;
    ids.forEach((id, k) => {
      const node = y.doc.getIn([...at, ...list, k], true);
      if (typeof id === "number" && isScalar(node) && typeof node.source === "string" && DEVFN_LIKE.test(node.source)) {
        problems.push({ line: y.lineOf([...at, ...list, k]), path: dotPath([...at, ...list, k]), message: `quote proxy devfns ("${node.source}"): unquoted, YAML reads the number ${id}` });
      }
    });
    partitions[Number(p)] = { requesterIds: ids, ...(!Array.isArray(v) && v.table_size !== undefined && { tableSize: v.table_size }) };
  }
  const image = imageFromPartitions({ ownPartition: table.own_partition, partitions, ...(table.ntp0_target_low !== undefined && { ntp0TargetLow: table.ntp0_target_low }) });
  for (const issue of image.issues) problems.push({ line: y.lineOf(at), path: `devices[${i}].switchtec`, message: issue });
  return { image, problems };
}
