/**
 * What the text said about one function, before it becomes a DecodedConfig.
 * Every field is optional: a field the text did not show stays undefined.
 */

/** how much lspci printed for a function: plain listing, `-v`, `-vv` and up */
export type Verbosity = 0 | 1 | 2;

export type CapKind = "express" | "acs" | "ari" | "sriov" | "pm" | "msi" | "msix" | "dsn" | "vendor" | "other";

/** one `Capabilities: [off] …` block */
export interface CapFacts {
  readonly line: number;
  readonly offset: number;
  readonly space: "standard" | "extended";
  /** capability ID from the name; -1 when lspci's name is not one we know */
  readonly id: number;
  readonly kind: CapKind;
  // express
  version?: number | undefined;
  type?: number | undefined;
  slot?: boolean | undefined;
  maxPayload?: number | undefined;
  phantomCount?: number | undefined;
  extTag?: boolean | undefined;
  rbe?: boolean | undefined;
  flr?: boolean | undefined;
  phantomEnabled?: boolean | undefined;
  physicalSlot?: number | undefined;
  ariFwdCap?: boolean | undefined;
  ariFwdCtl?: boolean | undefined;
  linkSpeed?: number | undefined;
  linkWidth?: number | undefined;
  // acs: a register is set only when all seven flags were read
  acsCap?: number | undefined;
  acsCtl?: number | undefined;
  // ari
  nextFunction?: number | undefined;
  // sr-iov
  vfEnable?: boolean | undefined;
  ariHierarchy?: boolean | undefined;
  initialVFs?: number | undefined;
  totalVFs?: number | undefined;
  numVFs?: number | undefined;
  vfOffset?: number | undefined;
  vfStride?: number | undefined;
  vfDevice?: number | undefined;
  // pm
  pmVersion?: number | undefined;
  powerState?: number | undefined;
  // msi / msix
  enabled?: boolean | undefined;
  vectors?: number | undefined;
  maskable?: boolean | undefined;
  address64?: boolean | undefined;
  tableBar?: number | undefined;
  tableOffset?: number | undefined;
  // dsn / vendor
  serial?: string | undefined;
  length?: number | undefined;
  vsecId?: number | undefined;
}

/** one `-P`/`-PP` path element after the first: `dd.f` (bus unknown) or `bb:dd.f` */
export interface PathStep {
  readonly bus: number | undefined;
  readonly devfn: number;
}

export interface FunctionRecord {
  /** 1-based line of the device line */
  readonly line: number;
  readonly dump: number;
  readonly segment: number;
  /** undefined only for `-P` paths whose bus is not printed, until resolved */
  bus: number | undefined;
  readonly devfn: number;
  /** `-P`/`-PP`: the printed path of the parent bridge */
  readonly parentPath: string | undefined;
  readonly path: string | undefined;
  vendor?: number | undefined;
  device?: number | undefined;
  /** without ids (no `-n`): the printed `Vendor Device` name, or the vendor alone when `deviceName` is set (`-mm`, `-vmm`) */
  vendorName?: string | undefined;
  deviceName?: string | undefined;
  /** a device line wrapped at a space (mail clients): the name with a space at each join */
  vendorNameSpaced?: string | undefined;
  /** base << 8 | sub */
  classBase?: number | undefined;
  classText?: string | undefined;
  /** the class number was read back from its name (no `[cccc]`) */
  classByName?: boolean | undefined;
  progIf?: number | undefined;
  revision?: number | undefined;
  subsystemVendor?: number | undefined;
  subsystemDevice?: number | undefined;
  /** `!!! Unknown header type 7f` */
  unknownHeaderType?: number | undefined;
  bridge?: { primary: number; secondary: number; subordinate: number } | undefined;
  /** the bridge buses came from a tree or a path, not from the function's own text */
  bridgeFrom?: "tree" | "path" | "guess" | undefined;
  cardbus?: boolean | undefined;
  level: Verbosity;
  /** Status register's Cap bit (`-vv`) */
  capList?: boolean | undefined;
  capsDenied: boolean;
  caps: CapFacts[];
  driver?: string | undefined;
  group?: number | undefined;
  /** config bytes from a hex dump; `known` leading bytes are real */
  hex?: Uint8Array | undefined;
  hexKnown: number;
  /** a line of the hex dump was missing: bytes after it are not used */
  hexGapAt?: number | undefined;
  /** a blank line, a driver line or the next device line closed the block (lspci ends every block so) */
  ended: boolean;
  /** machine-readable (`-m`) or tree: no detail lines can follow */
  readonly form: "text" | "machine" | "tree";
}

/** one device of an `lspci -t` tree */
export interface TreeNode {
  readonly line: number;
  readonly segment: number;
  readonly bus: number;
  readonly devfn: number;
  secondary?: number | undefined;
  subordinate?: number | undefined;
  vendor?: number | undefined;
  device?: number | undefined;
  /** `-tv` without `-nn`: the printed `Vendor Device` name */
  vendorName?: string | undefined;
}

// factories list every field, so all records (and all capability facts) share one shape: the scanner stays monomorphic

export function newRecord(
  line: number,
  dump: number,
  segment: number,
  bus: number | undefined,
  devfn: number,
  form: FunctionRecord["form"],
  path?: string,
  parentPath?: string,
): FunctionRecord {
  return {
    line,
    dump,
    segment,
    bus,
    devfn,
    parentPath,
    path,
    vendor: undefined,
    device: undefined,
    classBase: undefined,
    vendorName: undefined,
    deviceName: undefined,
    vendorNameSpaced: undefined,
    classText: undefined,
    classByName: undefined,
    progIf: undefined,
    revision: undefined,
    subsystemVendor: undefined,
    subsystemDevice: undefined,
    unknownHeaderType: undefined,
    bridge: undefined,
    bridgeFrom: undefined,
    cardbus: undefined,
    level: 0,
    capList: undefined,
    capsDenied: false,
    caps: [],
    driver: undefined,
    group: undefined,
    hex: undefined,
    hexKnown: 0,
    hexGapAt: undefined,
    ended: false,
    form,
  };
}

export function newCapFacts(line: number, offset: number, space: CapFacts["space"], id: number, kind: CapKind): CapFacts {
  return {
    line,
    offset,
    space,
    id,
    kind,
    version: undefined,
    type: undefined,
    slot: undefined,
    maxPayload: undefined,
    phantomCount: undefined,
    extTag: undefined,
    rbe: undefined,
    flr: undefined,
    phantomEnabled: undefined,
    physicalSlot: undefined,
    ariFwdCap: undefined,
    ariFwdCtl: undefined,
    linkSpeed: undefined,
    linkWidth: undefined,
    acsCap: undefined,
    acsCtl: undefined,
    nextFunction: undefined,
    vfEnable: undefined,
    ariHierarchy: undefined,
    initialVFs: undefined,
    totalVFs: undefined,
    numVFs: undefined,
    vfOffset: undefined,
    vfStride: undefined,
    vfDevice: undefined,
    pmVersion: undefined,
    powerState: undefined,
    enabled: undefined,
    vectors: undefined,
    maskable: undefined,
    address64: undefined,
    tableBar: undefined,
    tableOffset: undefined,
    serial: undefined,
    length: undefined,
    vsecId: undefined,
  };
}
