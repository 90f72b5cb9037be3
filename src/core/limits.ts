/**
 * The sizes an input may have, per kind: documented behaviour (see
 * docs/robustness.md), each with its own message. Past a limit the input is
 * refused before it is parsed, so memory and time stay bounded whatever a
 * file holds.
 */

const KiB = 1024;
const MiB = 1024 * KiB;

export const LIMITS = {
  /** design, plan and scenario files */
  yaml: {
    bytes: 1 * MiB,
    lines: 50_000,
    lineLength: 16 * KiB,
    /** leading spaces of a line */
    indent: 256,
    /** nested [ ] / { } and compact `- - -` sequences */
    depth: 64,
    /** alias expansions (a YAML "billion laughs" stops here) */
    aliases: 100,
  },
  /** pasted kernel fault lines (a dmesg excerpt, or a whole dmesg) */
  fault: {
    bytes: 4 * MiB,
    lineLength: 64 * KiB,
  },
  /** pasted lspci output */
  lspci: {
    bytes: 64 * MiB,
    lineLength: 64 * KiB,
    lines: 2_000_000,
    /** device lines (`00:1c.0 PCI bridge: …`): each becomes a function; PCI has 65536 per segment */
    functions: 100_000,
  },
} as const;

/** a design, plan or scenario file past LIMITS.yaml.bytes */
export const YAML_TOO_LARGE = `larger than ${size(LIMITS.yaml.bytes)}; a design, plan or scenario file is far smaller, is this the right file?`;

/** a text source (lspci output or a design) past the largest any may be, LIMITS.lspci.bytes */
export const SOURCE_TOO_LARGE = `larger than ${size(LIMITS.lspci.bytes)}; lspci output of a whole machine is well under 1 MiB, is this the right file?`;

/** pasted fault lines past LIMITS.fault.bytes */
export const FAULT_TOO_LARGE = `larger than ${size(LIMITS.fault.bytes)}; paste the fault lines, or a dmesg excerpt around them`;

/** a limit an input went past: the line it was found on (1 when the whole file is too big) */
export interface LimitProblem {
  readonly line: number;
  readonly message: string;
}

function size(bytes: number): string {
  if (bytes >= MiB) return `${(bytes / MiB).toFixed(bytes % MiB === 0 ? 0 : 1)} MiB`;
  if (bytes >= KiB) return `${(bytes / KiB).toFixed(bytes % KiB === 0 ? 0 : 1)} KiB`;
  return `${bytes} bytes`;
}

/** bytes `text` takes as UTF-8 */
function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c < 0xdc00 ? 2 : 3; // a surrogate pair is 4 bytes, 2 per half
  }
  return n;
}

/** lines in `text`, counting no further than max + 1 */
function lineCount(text: string, max: number): number {
  let lines = 1;
  for (let i = text.indexOf("\n"); i >= 0 && lines <= max; i = text.indexOf("\n", i + 1)) lines++;
  return lines;
}

/** the first line longer than `max` characters, if any */
function longLine(text: string, max: number): LimitProblem | undefined {
  let start = 0;
  for (let line = 1; start <= text.length; line++) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    if (end - start > max) return { line, message: `line is ${end - start} characters long; at most ${max} are read` };
    start = end + 1;
  }
  return undefined;
}

/** a bracket at `p` opens a flow collection: first on its line, or after `: ` or `- ` */
function opensValue(text: string, lineStart: number, p: number): boolean {
  let q = p - 1;
  while (q >= lineStart && (text[q] === " " || text[q] === "\t")) q--;
  return q < lineStart || text[q] === ":" || text[q] === "-" || text[q] === ",";
}

/**
 * Checks a YAML text (design, plan, scenario) against LIMITS.yaml before it
 * is parsed: size, line length, indentation and nesting depth. The depth
 * count is conservative: brackets inside quoted text on one line are skipped,
 * block scalars are not told apart (their indentation still counts).
 */
export function yamlLimitProblem(text: string): LimitProblem | undefined {
  const L = LIMITS.yaml;
  // a character is at most 3 UTF-8 bytes in the BMP: a quick upper bound before counting
  if (text.length > L.bytes || (text.length * 3 > L.bytes && utf8Length(text) > L.bytes)) {
    return { line: 1, message: YAML_TOO_LARGE };
  }
  const long = longLine(text, L.lineLength);
  if (long) return long;
  const lines = lineCount(text, L.lines);
  if (lines > L.lines) return { line: L.lines + 1, message: `more than ${L.lines} lines; a design, plan or scenario file is far shorter, is this the right file?` };
  let flow = 0;
  let start = 0;
  for (let line = 1; start <= text.length; line++) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    let p = start;
    while (p < end && text.charCodeAt(p) === 0x20) p++;
    if (p - start > L.indent) return { line, message: `indented ${p - start} spaces; at most ${L.indent} are read` };
    // compact nested sequences: `- - - x`
    let compact = 0;
    while (p + 1 < end && text[p] === "-" && (text[p + 1] === " " || text[p + 1] === "\t")) {
      compact++;
      p += 2;
      while (p < end && text.charCodeAt(p) === 0x20) p++;
    }
    if (compact > L.depth) return { line, message: `nested ${compact} levels deep; at most ${L.depth} levels are read` };
    let quote = "";
    for (; p < end; p++) {
      const c = text[p]!;
      if (quote) {
        if (c === quote) quote = "";
        continue;
      }
      if (c === "#" && (p === start || text[p - 1] === " " || text[p - 1] === "\t")) break;
      if (c === '"' || c === "'") quote = c;
      else if ((c === "[" || c === "{") && (flow > 0 || opensValue(text, start, p))) {
        if (++flow > L.depth) return { line, message: `nested ${flow} levels deep; at most ${L.depth} levels are read` };
      } else if ((c === "]" || c === "}") && flow > 0) flow--;
    }
    start = end + 1;
  }
  return undefined;
}

/** checks pasted fault lines against LIMITS.fault */
export function faultLimitProblem(text: string): LimitProblem | undefined {
  const L = LIMITS.fault;
  if (text.length > L.bytes) return { line: 1, message: FAULT_TOO_LARGE };
  return longLine(text, L.lineLength);
}

/** checks pasted lspci text against LIMITS.lspci */
export function lspciLimitProblem(text: string): LimitProblem | undefined {
  const L = LIMITS.lspci;
  if (text.length > L.bytes) return { line: 1, message: SOURCE_TOO_LARGE };
  if (lineCount(text, L.lines) > L.lines) return { line: L.lines + 1, message: `more than ${L.lines} lines; lspci output of a whole machine is far shorter, is this the right file?` };
  const long = longLine(text, L.lineLength);
  if (long) return long;
  const device = /^[ \t]*(?:[0-9a-fA-F]{4,8}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7][ \t]/gm;
  let functions = 0;
  for (let m = device.exec(text); m; m = device.exec(text)) {
    if (++functions > L.functions) {
      return { line: lineCount(text.slice(0, m.index), Infinity), message: `more than ${L.functions} device lines; a machine has far fewer PCI functions, is this the same lspci run pasted many times?` };
    }
  }
  return undefined;
}

const MAGIC: ReadonlyArray<{ what: string; magic: readonly number[] }> = [
  { what: "an ELF executable", magic: [0x7f, 0x45, 0x4c, 0x46] },
  { what: "a PNG image", magic: [0x89, 0x50, 0x4e, 0x47] },
  { what: "a JPEG image", magic: [0xff, 0xd8, 0xff] },
  { what: "a zip archive", magic: [0x50, 0x4b, 0x03, 0x04] },
  { what: "xz-compressed data", magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] },
  { what: "zstd-compressed data", magic: [0x28, 0xb5, 0x2f, 0xfd] },
  { what: "bzip2-compressed data", magic: [0x42, 0x5a, 0x68, 0x39] },
];

/**
 * UTF-16 text with its byte-order mark (Windows PowerShell 5 writes `>` and
 * Out-File so) re-encoded as UTF-8; any other bytes as they are. Offsets in
 * later messages then count UTF-8 bytes.
 */
export function asUtf8(bytes: Uint8Array): Uint8Array {
  const encoding = bytes[0] === 0xff && bytes[1] === 0xfe ? "utf-16le" : bytes[0] === 0xfe && bytes[1] === 0xff ? "utf-16be" : undefined;
  if (encoding === undefined) return bytes;
  // the platform's codecs (Node and browsers have both; core declares no DOM or Node types)
  const g = globalThis as unknown as {
    TextDecoder: new (encoding: string) => { decode(bytes: Uint8Array): string };
    TextEncoder: new () => { encode(text: string): Uint8Array };
  };
  return new g.TextEncoder().encode(new g.TextDecoder(encoding).decode(bytes));
}

/** how much of a file the control-character count looks at */
const SNIFF_BYTES = 4096;

/**
 * Tells binary data from text, so that a binary file is refused without a
 * byte of it being echoed: a known magic number, a NUL byte, or more than
 * 1 in 64 of the first 4 KiB being control characters (tab, line breaks,
 * form feed and ESC of pasted terminal output are text).
 *
 * @returns where it shows (offset) and what it looks like, or undefined for text
 */
export function binaryProblem(bytes: Uint8Array): { offset: number; what: string } | undefined {
  for (const m of MAGIC) {
    if (bytes.length >= m.magic.length && m.magic.every((b, i) => bytes[i] === b)) return { offset: 0, what: m.what };
  }
  const nul = bytes.indexOf(0);
  if (nul >= 0) return { offset: nul, what: "binary data (a NUL byte)" };
  let controls = 0;
  let first = -1;
  const n = Math.min(bytes.length, SNIFF_BYTES);
  for (let i = 0; i < n; i++) {
    const b = bytes[i]!;
    if ((b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d && b !== 0x0c && b !== 0x0b && b !== 0x1b) || b === 0x7f) {
      if (first < 0) first = i;
      controls++;
    }
  }
  if (controls * 64 > n && controls > 1) return { offset: first, what: "binary data (control bytes)" };
  return undefined;
}
