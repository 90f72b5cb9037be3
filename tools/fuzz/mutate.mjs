// Deterministic random numbers and the mutations the fuzzer applies to real inputs.
// Every input is a pure function of (campaign seed, target name, input index), so a
// failure is reproduced from those three numbers alone.

/** 32-bit hash of a string (FNV-1a) */
export function hashString(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** a small, fast PRNG (sfc32) seeded from campaign seed, target and index */
export class Rng {
  constructor(seed, target, index) {
    this.a = (seed ^ 0x9e3779b9) >>> 0;
    this.b = hashString(target);
    this.c = (index ^ 0x85ebca6b) >>> 0;
    this.d = Math.floor(index / 0x100000000) ^ 0xc2b2ae35;
    for (let i = 0; i < 12; i++) this.u32();
  }
  u32() {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }
  /** integer in [0, n) */
  int(n) {
    return n <= 0 ? 0 : Math.floor((this.u32() / 0x100000000) * n);
  }
  /** true with probability p */
  chance(p) {
    return this.u32() / 0x100000000 < p;
  }
  pick(list) {
    return list[this.int(list.length)];
  }
  /** small integers more often than large ones: [0, n) */
  skewed(n) {
    const bits = this.int(Math.max(1, Math.ceil(Math.log2(n + 1))) + 1);
    return Math.min(n - 1, this.int(2 ** bits));
  }
}

const enc = new TextEncoder();
const dec = new TextDecoder("utf-8");
export const toBytes = (s) => enc.encode(s);
export const toText = (b) => dec.decode(b);

function concat(...parts) {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** offsets where a line starts (after each \n) */
function lineStarts(b) {
  const starts = [0];
  for (let i = 0; i < b.length; i++) if (b[i] === 0x0a) starts.push(i + 1);
  return starts;
}

/** an offset that is a natural boundary of the input: a line start, a multiple of 4/8/16/512 */
function boundary(rng, b) {
  if (b.length === 0) return 0;
  switch (rng.int(4)) {
    case 0: {
      const s = lineStarts(b);
      return s[rng.int(s.length)];
    }
    case 1: {
      const unit = rng.pick([2, 4, 8, 16, 64, 512]);
      return Math.min(b.length, rng.int(Math.floor(b.length / unit) + 1) * unit);
    }
    default:
      return rng.int(b.length + 1);
  }
}

const INTERESTING8 = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x20, 0x0a, 0x0d];
const INTERESTING32 = [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0xffff, 0x10000, 0x1000, 4096, 0xfffffff0];
const HUGE_TEXT = ["99999999999999999999", "4294967296", "0xffffffffffffffff", "-1", "1e308", "NaN", "0x", "18446744073709551616", "65536", "0777777777777", "9".repeat(400)];
const CONTROL = ["\0", "\x01", "\x07", "\x08", "\x1b[2J", "\x1b]0;title\x07", "\x7f", "\u202e", "\u200b", "\ufeff", "\u2028", "\x85", "\r", "\t", "\f", "\v"];
const BAD_UTF8 = [[0xff], [0xc3, 0x28], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xc0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0x80]];

/** the byte mutations every target may get */
export const byteMutations = {
  bitflip(rng, b) {
    const out = b.slice();
    const n = 1 + rng.skewed(16);
    for (let i = 0; i < n && out.length > 0; i++) out[rng.int(out.length)] ^= 1 << rng.int(8);
    return out;
  },
  interesting(rng, b) {
    const out = b.slice();
    if (out.length === 0) return Uint8Array.of(rng.pick(INTERESTING8));
    const at = rng.int(out.length);
    if (rng.chance(0.5) || out.length < 4) out[at] = rng.pick(INTERESTING8);
    else {
      const v = rng.pick(INTERESTING32);
      const p = Math.min(at, out.length - 4);
      new DataView(out.buffer, out.byteOffset).setUint32(p, v, rng.chance(0.8));
    }
    return out;
  },
  truncate(rng, b) {
    return b.slice(0, boundary(rng, b));
  },
  cutFront(rng, b) {
    return b.slice(boundary(rng, b));
  },
  duplicate(rng, b) {
    const x = boundary(rng, b);
    const y = boundary(rng, b);
    const [s, e] = x <= y ? [x, y] : [y, x];
    const chunk = b.subarray(s, Math.min(e, s + (rng.chance(0.01) ? 65536 : 2048)));
    const times = 1 + rng.skewed(8);
    return concat(b.subarray(0, e), ...Array(times).fill(chunk), b.subarray(e));
  },
  reorder(rng, b) {
    const cuts = [boundary(rng, b), boundary(rng, b), boundary(rng, b)].sort((p, q) => p - q);
    return concat(b.subarray(0, cuts[0]), b.subarray(cuts[1], cuts[2]), b.subarray(cuts[0], cuts[1]), b.subarray(cuts[2]));
  },
  erase(rng, b) {
    const x = boundary(rng, b);
    const y = Math.min(b.length, x + 1 + rng.skewed(4096));
    return concat(b.subarray(0, x), b.subarray(y));
  },
  insertControl(rng, b) {
    const at = boundary(rng, b);
    return concat(b.subarray(0, at), toBytes(rng.pick(CONTROL).repeat(1 + rng.skewed(4))), b.subarray(at));
  },
  insertBadUtf8(rng, b) {
    const at = rng.int(b.length + 1);
    return concat(b.subarray(0, at), Uint8Array.from(rng.pick(BAD_UTF8)), b.subarray(at));
  },
  randomBytes(rng, b) {
    const n = rng.skewed(4096);
    const junk = new Uint8Array(n);
    for (let i = 0; i < n; i++) junk[i] = rng.int(256);
    if (rng.chance(0.5)) return junk;
    const at = boundary(rng, b);
    return concat(b.subarray(0, at), junk, b.subarray(at));
  },
};

/** line-aware mutations for text inputs (YAML, lspci) */
export const textMutations = {
  crlf(rng, b) {
    const t = toText(b);
    return toBytes(rng.chance(0.7) ? t.replace(/\n/g, "\r\n") : t.replace(/\n/g, "\r"));
  },
  hugeNumber(rng, b) {
    const t = toText(b);
    const nums = [...t.matchAll(/\b(0x[0-9a-fA-F]+|\d+)\b/g)];
    if (nums.length === 0) return toBytes(t + rng.pick(HUGE_TEXT));
    const m = rng.pick(nums);
    return toBytes(t.slice(0, m.index) + rng.pick(HUGE_TEXT) + t.slice(m.index + m[0].length));
  },
  duplicateLines(rng, b) {
    const lines = toText(b).split("\n");
    const s = rng.int(lines.length);
    const e = Math.min(lines.length, s + 1 + rng.skewed(50));
    const times = 1 + rng.skewed(rng.chance(0.005) ? 2000 : 8);
    const chunk = lines.slice(s, e);
    return toBytes([...lines.slice(0, e), ...Array(times).fill(chunk).flat(), ...lines.slice(e)].join("\n"));
  },
  shuffleLines(rng, b) {
    const lines = toText(b).split("\n");
    for (let k = 0; k < 1 + rng.skewed(20); k++) {
      const i = rng.int(lines.length);
      const j = rng.int(lines.length);
      [lines[i], lines[j]] = [lines[j], lines[i]];
    }
    return toBytes(lines.join("\n"));
  },
  longLine(rng, b) {
    const t = toText(b);
    const at = rng.int(t.length + 1);
    const n = rng.pick([300, 5000, 70000, 1 << 20]);
    return toBytes(t.slice(0, at) + rng.pick(["x", "0", " ", "ab:", "-"]).repeat(n) + t.slice(at));
  },
  indent(rng, b) {
    const lines = toText(b).split("\n");
    const i = rng.int(lines.length);
    lines[i] = " ".repeat(rng.pick([1, 3, 64, 257, 5000])) + lines[i];
    return toBytes(lines.join("\n"));
  },
  millionLines(rng, b) {
    // a paste of 10^6 lines: one line of the input repeated, or empty lines
    const lines = toText(b).split("\n");
    const line = rng.chance(0.5) ? lines[rng.int(lines.length)].slice(0, 80) : "";
    return toBytes(Array(1_000_000).fill(line).join("\n"));
  },
};

/** YAML-specific: deep nesting, anchors and aliases (billion laughs), tags, documents */
export const yamlMutations = {
  deepFlow(rng, b) {
    const n = rng.pick([10, 65, 500, 10000, 100000]);
    const t = toText(b);
    const at = t.indexOf(": ") >= 0 && rng.chance(0.7) ? t.indexOf(": ") + 2 : 0;
    return toBytes(t.slice(0, at) + "[".repeat(n) + "1" + "]".repeat(rng.chance(0.8) ? n : 0) + t.slice(at));
  },
  deepBlock(rng, b) {
    const n = rng.pick([10, 70, 300, 2000]);
    const compact = rng.chance(0.5);
    const nest = compact ? "- ".repeat(n) + "x" : Array.from({ length: n }, (_, i) => " ".repeat(i) + (rng.chance(0.5) ? "- " : "k:")).join("\n") + " x";
    return toBytes(`${toText(b)}\nextra:\n${nest}\n`);
  },
  billionLaughs(rng, b) {
    const levels = 3 + rng.int(8);
    const width = 2 + rng.int(9);
    let y = `l0: &l0 [${Array(width).fill('"lol"').join(",")}]\n`;
    for (let i = 1; i < levels; i++) y += `l${i}: &l${i} [${Array(width).fill(`*l${i - 1}`).join(",")}]\n`;
    const t = toText(b);
    if (rng.chance(0.5)) return toBytes(y + t);
    // aliases where the reader expects values
    return toBytes(y + t.replace(/: [^\n]+/, `: *l${levels - 1}`));
  },
  aliasEverywhere(rng, b) {
    const t = toText(b);
    const lines = t.split("\n");
    const i = rng.int(lines.length);
    lines[i] = lines[i].replace(/: (.+)$/, ": &a $1");
    for (let k = 0; k < 1 + rng.skewed(30); k++) {
      const j = rng.int(lines.length);
      lines[j] = lines[j].replace(/: .+$/, ": *a");
    }
    return toBytes(lines.join("\n"));
  },
  yamlOddities(rng, b) {
    const odd = ["---\n", "...\n", "%YAML 1.1\n", "!!binary AAAA\n", "? complex\n: key\n", "<<: *x\n", "key: !!python/object x\n", "a: b: c\n", "- [\n", "'unterminated\n", '"\\u0000\\x1b"\n', "&anchor\n", "*undefined\n", "{a: 1, a: 2}\n", "x: .nan\n", "x: 0o777\n", "x: ~\n"];
    const lines = toText(b).split("\n");
    lines.splice(rng.int(lines.length + 1), 0, rng.pick(odd).replace(/\n$/, ""));
    return toBytes(lines.join("\n"));
  },
};

/** mutations that may make an input megabytes long */
const HEAVY = new Set(["millionLines", "longLine", "deepFlow", "deepBlock"]);

/** applies 1..4 mutations drawn from `sets` */
export function mutate(rng, bytes, sets, others) {
  const all = sets.flatMap((s) => Object.entries(s));
  let b = bytes;
  const applied = [];
  const n = 1 + rng.skewed(4);
  for (let i = 0; i < n; i++) {
    let [name, fn] = all[rng.int(all.length)];
    // huge inputs (10^6-line pastes, megabyte lines, 10^5-deep nesting) are slow by nature: rare
    if (HEAVY.has(name) && !rng.chance(0.01)) [name, fn] = ["bitflip", byteMutations.bitflip];
    if (rng.chance(0.08) && others.length > 0) {
      // splice with another real input
      const other = rng.pick(others);
      const x = boundary(rng, b);
      const y = boundary(rng, other);
      b = concat(b.subarray(0, x), other.subarray(y));
      applied.push("splice");
      continue;
    }
    // past 4 MiB only byte mutations: line and number scans of a 48 MiB text would cost the generator more than the reader
    if (b.length > 4 << 20 && !(name in byteMutations)) [name, fn] = ["bitflip", byteMutations.bitflip];
    b = fn(rng, b);
    applied.push(name);
    if (b.length > 48 << 20) b = b.subarray(0, 48 << 20);
  }
  return { bytes: b, applied };
}
