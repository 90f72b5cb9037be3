import { gunzipSync, gzipSync } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeArchive } from "../../cli/sysfs/archive.js";
import type { FileTree, FileTreeEntry } from "../fs/file-tree.js";
import { CaptureError } from "./capture-error.js";
import { CAPTURE_LIMITS } from "./limits.js";
import type { CaptureLimits } from "./limits.js";
import { crc32 } from "./fflate-inflater.js";
import { CaptureReader, CaptureReaderCore, looksLikeCapture, readCapture } from "./index.js";

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

function sampleTree(extra: Array<[string, FileTreeEntry]> = []): FileTree {
  return new Map<string, FileTreeEntry>([
    ["sys", { kind: "dir" }],
    ["sys/bus/pci/devices/0000:00:00.0", { kind: "symlink", target: "../../../devices/pci0000:00/0000:00:00.0" }],
    ["sys/devices/pci0000:00/0000:00:00.0", { kind: "dir" }],
    ["sys/devices/pci0000:00/0000:00:00.0/config", { kind: "file", data: new Uint8Array(256).fill(0x86, 0, 1) }],
    ["sys/devices/pci0000:00/0000:00:00.0/class", { kind: "file", data: text("0x060000\n") }],
    ...extra,
  ]);
}

/** the tar inside an archive made by the CLI's writer */
function tarOf(tree: FileTree): Uint8Array {
  return new Uint8Array(gunzipSync(encodeArchive(tree)));
}

function errorOf(run: () => unknown): CaptureError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(CaptureError);
    expect((err as CaptureError).detail).not.toContain("\n");
    return err as CaptureError;
  }
  throw new Error("expected a CaptureError");
}

function pushInChunks(bytes: Uint8Array, sizes: number[], limits: CaptureLimits = CAPTURE_LIMITS): FileTree {
  const reader = new CaptureReader(limits);
  let at = 0;
  let i = 0;
  while (at < bytes.length) {
    const n = Math.max(1, sizes[i++ % sizes.length]!);
    reader.push(bytes.subarray(at, at + n));
    at += n;
  }
  return reader.finish();
}

describe("CaptureReader", () => {
  it("gives the same tree whatever the chunk sizes, gzip or plain tar", () => {
    const tree = sampleTree([["sys/" + "x".repeat(150) + "/long", { kind: "file", data: text("long path\n") }]]);
    const gz = encodeArchive(tree);
    const tar = tarOf(tree);
    expect(readCapture(gz)).toEqual(tree);
    expect(readCapture(tar)).toEqual(tree);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 8 }), (sizes) => {
        expect(pushInChunks(gz, sizes)).toEqual(tree);
        expect(pushInChunks(tar, sizes)).toEqual(tree);
      }),
      { numRuns: 60, seed: 7 },
    );
  });

  it("tells captures from text by their first bytes", () => {
    expect(looksLikeCapture(encodeArchive(sampleTree()).subarray(0, 512))).toBe(true);
    expect(looksLikeCapture(tarOf(sampleTree()).subarray(0, 512))).toBe(true);
    expect(looksLikeCapture(text("00:00.0 Host bridge [0600]: Intel Corporation"))).toBe(false);
  });

  it("names other compressions and empty input", () => {
    expect(errorOf(() => readCapture(new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 1, 2]))).detail).toBe("zstd-compressed, only gzip is supported; decompress it first");
    expect(errorOf(() => new CaptureReader().finish()).detail).toBe("empty file");
  });

  it("a cut gzip stream names where the file ends, in any chunk sizes", () => {
    const gz = encodeArchive(sampleTree());
    const cut = gz.length - 7;
    const want = `truncated gzip data (offset 0x${cut.toString(16)}: the file ends before the gzip stream does)`;
    expect(errorOf(() => readCapture(gz.subarray(0, cut))).detail).toBe(want);
    expect(errorOf(() => pushInChunks(gz.subarray(0, cut), [3, 100, 1])).detail).toBe(want);
  });

  it("checks the gzip trailer as node:zlib does: a damaged CRC or length is refused", () => {
    expect(crc32(text("123456789"))).toBe(0xcbf43926);
    expect(crc32(text("56789"), crc32(text("1234")))).toBe(0xcbf43926);
    const gz = encodeArchive(sampleTree());
    for (const at of [gz.length - 8, gz.length - 1]) {
      const bad = new Uint8Array(gz); // a copy: a Buffer's slice would share gz's bytes
      bad[at]! ^= 0x40;
      const want = `not valid gzip data (offset 0x${(gz.length - 8).toString(16)}: the CRC-32 and length in the gzip trailer do not match the data; the file is damaged or cut short)`;
      expect(errorOf(() => readCapture(bad)).detail).toBe(want);
      expect(() => gunzipSync(bad)).toThrow();
    }
    // two members, as `cat a.gz b.gz` makes: each inflates, the last one's trailer is checked
    const tar = tarOf(sampleTree());
    const two = new Uint8Array([...gzipSync(tar.subarray(0, 1000)), ...gzipSync(tar.subarray(1000))]);
    expect([...readCapture(two).keys()]).toEqual([...readCapture(gz).keys()]);
  });
});

describe("limits, each with its own message", () => {
  const small = (over: Partial<CaptureLimits>): CaptureLimits => ({ ...CAPTURE_LIMITS, ...over });

  it("bytes per entry", () => {
    const tree = sampleTree([["sys/big", { kind: "file", data: new Uint8Array(5000) }]]);
    const e = errorOf(() => readCapture(encodeArchive(tree), small({ maxEntryBytes: 4096 })));
    expect(e.detail).toMatch(/^tar entry too large \(offset 0x[0-9a-f]+: "sys\/big" holds 5000 bytes, more than the 4096/);
    expect(readCapture(encodeArchive(tree), small({ maxEntryBytes: 5000 })).get("sys/big")).toBeDefined();
  });

  it("number of entries", () => {
    const e = errorOf(() => readCapture(encodeArchive(sampleTree()), small({ maxEntries: 3 })));
    expect(e.detail).toMatch(/^tar archive has too many entries \(offset 0x[0-9a-f]+: more than 3;/);
  });

  it("path length", () => {
    const tree = sampleTree([["sys/" + "d".repeat(300), { kind: "dir" }]]);
    const e = errorOf(() => readCapture(encodeArchive(tree), small({ maxPathLength: 200 })));
    expect(e.detail).toMatch(/^tar entry path too long \(offset 0x[0-9a-f]+: more than 200 characters/);
  });

  it("a symlink loop is kept as it was captured, not followed", () => {
    const tree = sampleTree([
      ["sys/a", { kind: "symlink", target: "b" }],
      ["sys/b", { kind: "symlink", target: "a" }],
    ]);
    expect(readCapture(encodeArchive(tree))).toEqual(tree);
  });

  it("decompression ratio: a gzip bomb stops early", () => {
    // 64 MiB of zeros inflates about 1000:1; stop once 1 MiB is out
    const bomb = gzipSync(new Uint8Array(64 * 1024 * 1024), { level: 9 });
    const e = errorOf(() => readCapture(bomb, small({ ratioAfterBytes: 1024 * 1024, maxRatio: 500 })));
    expect(e.detail).toMatch(/^gzip data inflates more than 500 times its size/);
  });

  it("a real capture's ratio passes the default guard", () => {
    const tree = sampleTree();
    expect(readCapture(encodeArchive(tree), small({ ratioAfterBytes: 0 }))).toEqual(tree);
  });

  it("bytes inflated by the platform (the CLI's node:zlib) are guarded against the compressed bytes it read", () => {
    const tree = sampleTree([["sys/big", { kind: "file", data: new Uint8Array(8192) }]]);
    const tar = tarOf(tree);
    const limits = small({ ratioAfterBytes: 0, maxRatio: 10 });
    const ok = new CaptureReaderCore(limits);
    ok.pushInflated(tar, Math.ceil(tar.length / 5));
    expect(ok.finish()).toEqual(tree);
    const bomb = new CaptureReaderCore(limits);
    expect(errorOf(() => bomb.pushInflated(tar, 100)).detail).toMatch(/^gzip data inflates more than 10 times its size \(\d+ bytes from 100\)/);
  });
});
