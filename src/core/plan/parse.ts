/**
 * Reads a plan file: YAML with the failsafe schema (every scalar stays the
 * text that was written, so `0300` is a class code and not the number 300),
 * checked with zod; each problem names its line and field.
 */
import { z } from "zod";
import { docToJs, dotPath, readYamlDocument, zodProblems } from "../design/yaml-source.js";
import type { YamlPath } from "../design/yaml-source.js";
import { formatBdf, parseBdf } from "../topology/address.js";
import {
  MSG_DEVICE_ENTRY,
  MSG_DRIVER,
  MSG_EMPTY_PLAN,
  MSG_GUEST_NAME,
  MSG_NOT_A_MAP,
  MSG_VF_COUNT,
  duplicateGuestMessage,
  duplicateSriovMessage,
  notBdfMessage,
  notRidMessage,
  notSelectorMessage,
  reservedGuestMessage,
  schemaIssueMessage,
  unknownGuestMessage,
} from "./messages.js";
import { DEFAULT_GUEST_DRIVER, HOST } from "./plan.js";
import type { AliasRequest, DeviceEntry, GuestPlan, PlanPlace, PlanProblem, PlanResult, SriovRequest } from "./plan.js";
import { parseRid, parseSelector } from "./select.js";
import type { Selector } from "./select.js";

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.+-]*$/;
const DRIVER_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

const selectorText = z.string().superRefine((s, ctx) => {
  if (parseSelector(s) === undefined) ctx.addIssue({ code: "custom", message: notSelectorMessage(s) });
});
const bdfText = z.string().superRefine((s, ctx) => {
  if (parseBdf(s) === undefined) ctx.addIssue({ code: "custom", message: notBdfMessage(s) });
});
const ridText = z.string().superRefine((s, ctx) => {
  if (parseRid(s) === undefined) ctx.addIssue({ code: "custom", message: notRidMessage(s) });
});
const driverName = z.string().regex(DRIVER_RE, MSG_DRIVER);
const guestName = z.string().regex(NAME_RE, MSG_GUEST_NAME);

const deviceEntryMap = z.strictObject({ select: selectorText, driver: driverName.optional() });
const deviceEntry = z.union([selectorText, deviceEntryMap], { error: MSG_DEVICE_ENTRY });

const guest = z.strictObject({
  name: guestName,
  description: z.string().optional(),
  driver: driverName.optional(),
  devices: z.array(deviceEntry).min(1),
});

const vfCount = z.string().regex(/^\d{1,5}$/, MSG_VF_COUNT).transform(Number).pipe(z.number().max(0xffff, MSG_VF_COUNT));

const aliasRequest = z.strictObject({
  guest: guestName,
  device: bdfText,
  requester_ids: z.array(ridText).min(1),
  reason: z.string().optional(),
});

/** the plan as the file holds it (after the failsafe YAML read) */
const planSchema = z.strictObject({
  schema: z.literal("iommu-atlas/plan@1").optional(),
  description: z.string().optional(),
  guests: z.array(guest).optional(),
  host: z.array(deviceEntry).optional(),
  sriov: z.record(bdfText, vfCount).optional(),
  alias_requests: z.array(aliasRequest).optional(),
});

/** the field names each part of a plan may have (docs/schemas/plan.schema.json must agree) */
export const PLAN_FIELDS = {
  plan: Object.keys(planSchema.shape),
  guest: Object.keys(guest.shape),
  deviceEntry: Object.keys(deviceEntryMap.shape),
  aliasRequest: Object.keys(aliasRequest.shape),
} as const;

type RawPlan = z.output<typeof planSchema>;
type RawEntry = z.output<typeof deviceEntry>;
type Path = YamlPath;

/**
 * Parses and validates a plan. `file` names the plan in problems. Never
 * throws: YAML errors, schema errors and plan-level contradictions (two
 * guests with one name, a request from an unknown guest) all become
 * problems with a line and a field.
 */
export function parsePlan(text: string, file: string): PlanResult {
  const read = readYamlDocument(text, { failsafe: true });
  if (!read.ok) return read;
  const { doc, lineOf } = read;
  const js = docToJs(doc);
  if (!js.ok) return js;
  const data = js.value;
  if (data === null || data === undefined || data === "") return { ok: false, problems: [{ line: 1, path: "", message: MSG_EMPTY_PLAN }] };
  if (typeof data !== "object" || Array.isArray(data)) return { ok: false, problems: [{ line: lineOf([]), path: "", message: MSG_NOT_A_MAP }] };

  const parsed = planSchema.safeParse(data, { error: schemaIssueMessage });
  if (!parsed.success) return { ok: false, problems: zodProblems(parsed.error.issues, lineOf) };
  return buildPlan(parsed.data, file, lineOf);
}

function buildPlan(raw: RawPlan, file: string, lineOf: (path: Path, key?: string) => number): PlanResult {
  const problems: PlanProblem[] = [];
  const place = (path: Path): PlanPlace => ({ line: lineOf(path), path: dotPath(path) });
  const entry = (e: RawEntry, path: Path): DeviceEntry => {
    const text = typeof e === "string" ? e : e.select;
    return {
      ...place(path),
      text,
      selector: parseSelector(text) as Selector,
      driver: typeof e === "string" ? undefined : e.driver,
    };
  };

  const guests: GuestPlan[] = [];
  const names = new Map<string, string>();
  (raw.guests ?? []).forEach((g, i) => {
    const at = place(["guests", i, "name"]);
    if (g.name === HOST) problems.push({ ...at, message: reservedGuestMessage(g.name) });
    else if (names.has(g.name)) problems.push({ ...at, message: duplicateGuestMessage(g.name, names.get(g.name)!) });
    else names.set(g.name, at.path);
    guests.push({
      ...place(["guests", i]),
      name: g.name,
      driver: g.driver ?? DEFAULT_GUEST_DRIVER,
      devices: g.devices.map((d, j) => entry(d, ["guests", i, "devices", j])),
    });
  });

  const host = (raw.host ?? []).map((d, j) => entry(d, ["host", j]));

  const sriov: SriovRequest[] = [];
  for (const [key, numVfs] of Object.entries(raw.sriov ?? {})) {
    const a = parseBdf(key)!;
    const r = { line: lineOf(["sriov"], key), path: dotPath(["sriov", key]), pf: formatBdf(a.segment, a.bus, a.devfn), numVfs };
    if (sriov.some((x) => x.pf === r.pf)) problems.push({ line: r.line, path: r.path, message: duplicateSriovMessage(r.pf) });
    else sriov.push(r);
  }

  const aliasRequests: AliasRequest[] = (raw.alias_requests ?? []).map((r, i) => {
    if (!names.has(r.guest)) problems.push({ ...place(["alias_requests", i, "guest"]), message: unknownGuestMessage(r.guest, [...names.keys()]) });
    const a = parseBdf(r.device)!;
    return {
      ...place(["alias_requests", i]),
      guest: r.guest,
      device: formatBdf(a.segment, a.bus, a.devfn),
      devicePlace: place(["alias_requests", i, "device"]),
      requesterIds: r.requester_ids.map((t, j) => ({ ...place(["alias_requests", i, "requester_ids", j]), text: t, rid: parseRid(t)! })),
      reason: r.reason,
    };
  });

  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, plan: { file, description: raw.description, guests, host, sriov, aliasRequests } };
}
