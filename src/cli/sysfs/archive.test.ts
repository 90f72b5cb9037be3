import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type FileTree, type FileTreeEntry, resolveLink } from "../../core/fs/file-tree.js";
import { CaptureError, readCapture } from "../../core/capture/index.js";
import { decodeArchive, encodeArchive, readSource, writeArchive } from "./archive.js";
import { collectSysfs } from "./collect.js";
import { OutputError, SourceError } from "./errors.js";
import { makeFakeSysfs, treeListing } from "./fake-sysfs.js";

let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), "iommu-atlas-archive-"));
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const shared = path.resolve("..", "shared");
const oracleDir = path.join(shared, "oracle-cases");
const oracleArchives = existsSync(oracleDir)
  ? readdirSync(oracleDir).filter((f) => f.endsWith(".sysfs.tar.gz")).sort()
  : [];

async function fakeCapture(opts: { deep?: boolean } = {}, name = "root"): Promise<FileTree> {
  const root = path.join(tmp, name);
  await makeFakeSysfs(root, opts);
  return (await collectSysfs(root, { readRegisters: true })).tree;
}

/** the SourceError `run` throws; fails the test otherwise */
async function sourceError(run: () => Promise<unknown>): Promise<SourceError> {
  try {
    await run();
  } catch (err) {
    expect(err).toBeInstanceOf(SourceError);
    const e = err as SourceError;
    expect(e.message).not.toContain("\n");
    expect(e.message.startsWith(`${e.file}: `)).toBe(true);
    expect(e.message).toContain("pass a capture made by 'iommu-atlas capture' or scripts/capture.sh");
    return e;
  }
  throw new Error("expected a SourceError");
}

describe("writeArchive and readSource", () => {
  it("round-trips a collected tree exactly, long paths included", async () => {
    const tree = await fakeCapture({ deep: true });
    const longest = Math.max(...[...tree.keys()].map((k) => k.length));
    expect(longest).toBeGreaterThan(256); // past ustar's 100 + 155 split: needs pax

    const file = path.join(tmp, "capture.tar.gz");
    await writeArchive(tree, file);
    expect(treeListing(await readSource(file))).toEqual(treeListing(tree));
    expect(await readSource(file)).toEqual(tree);
    expect(await readdir(tmp)).toEqual(["capture.tar.gz", "root"]); // no temp file left
  });

  it("gives byte-identical archives for the same tree, whatever the insertion order", async () => {
    const tree = await fakeCapture();
    const reversed = new Map([...tree].reverse());
    const a = encodeArchive(tree);
    expect(encodeArchive(reversed)).toEqual(a);
    expect(encodeArchive(await fakeCapture({}, "again"))).toEqual(a);
  });

  it("reads a capture folder like collectSysfs and a plain .tar by content", async () => {
    const root = path.join(tmp, "root");
    await makeFakeSysfs(root);
    const tree = (await collectSysfs(root, { readRegisters: true })).tree;
    expect(await readSource(root)).toEqual(tree);

    const plain = path.join(tmp, "capture.tar.gz"); // misleading name on purpose
    await writeFile(plain, gunzipSync(encodeArchive(tree)));
    expect(await readSource(plain)).toEqual(tree);
  });

  it("round-trips arbitrary trees", () => {
    const segment = fc.stringMatching(/^[A-Za-z0-9:._-]{1,40}$/).filter((s) => s !== "." && s !== "..");
    const key = fc.array(segment, { minLength: 1, maxLength: 8 }).map((parts) => `sys/bus/pci/${parts.join("/")}`);
    const entry: fc.Arbitrary<FileTreeEntry> = fc.oneof(
      fc.uint8Array({ maxLength: 1500 }).map((data) => ({ kind: "file" as const, data })),
      fc.stringMatching(/^[A-Za-z0-9:./_-]{1,300}$/).map((target) => ({ kind: "symlink" as const, target })),
      fc.constant({ kind: "dir" as const }),
    );
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(key, entry), { selector: ([k]) => k, maxLength: 20 }), (entries) => {
        const tree = new Map<string, FileTreeEntry>([["sys/bus/pci", { kind: "dir" }], ...entries]);
        expect(decodeArchive(encodeArchive(tree), "x.tar.gz")).toEqual(tree);
      }),
      { numRuns: 200 },
    );
  });
});

describe.skipIf(oracleArchives.length === 0)(
  `kernel oracle captures${oracleArchives.length > 0 ? "" : " (skipped: ../shared/oracle-cases is not here)"}`,
  () => {
    it.each(oracleArchives)("%s reads, and every function resolves to a folder with config", async (name) => {
      const tree = await readSource(path.join(oracleDir, name));
      const links = [...tree.keys()].filter((k) => /^sys\/bus\/pci\/devices\/[^/]+$/.test(k));
      expect(links.length).toBeGreaterThan(0);
      for (const link of links) {
        const dev = resolveLink(tree, link);
        expect(dev && tree.get(dev), link).toEqual({ kind: "dir" });
        expect(tree.get(`${dev}/config`)?.kind, link).toBe("file");
      }
      expect([...tree.keys()].some((k) => k.startsWith("./") || k.endsWith("/"))).toBe(false);
      expect(tree.get("proc/sys/kernel/osrelease")?.kind).toBe("file");
    });

    it("an extracted oracle capture reads as a folder to the same tree", async () => {
      const name = oracleArchives.find((n) => n.startsWith("mf-dsps")) ?? (oracleArchives[0] as string);
      const dir = path.join(tmp, "x");
      await mkdir(dir);
      execFileSync("tar", ["-xzf", path.join(oracleDir, name), "-C", dir]);
      expect(treeListing(await readSource(dir))).toEqual(treeListing(await readSource(path.join(oracleDir, name))));
    });
  },
);

describe("malformed sources", () => {
  async function validTar(): Promise<Buffer> {
    return gunzipSync(encodeArchive(await fakeCapture()));
  }

  it("missing file", async () => {
    const e = await sourceError(() => readSource(path.join(tmp, "nope.tar.gz")));
    expect(e.detail).toBe("no such file or directory (ENOENT)");
  });

  it("empty file", async () => {
    const file = path.join(tmp, "empty.tar.gz");
    await writeFile(file, "");
    expect((await sourceError(() => readSource(file))).detail).toBe("empty file");
  });

  it("folder without sys/bus/pci", async () => {
    await mkdir(path.join(tmp, "sys/devices"), { recursive: true });
    expect((await sourceError(() => readSource(tmp))).detail).toBe("folder has no sys/bus/pci");
  });

  it("truncated gzip", async () => {
    const gz = encodeArchive(await fakeCapture());
    const file = path.join(tmp, "cut.tar.gz");
    const cut = Math.floor(gz.length / 2);
    await writeFile(file, gz.subarray(0, cut));
    expect((await sourceError(() => readSource(file))).detail).toBe(
      `truncated gzip data (offset 0x${cut.toString(16)}: the file ends before the gzip stream does)`,
    );
  });

  it("a cut or damaged gzip gets the same words from node:zlib as from the web page's reader", async () => {
    const gz = encodeArchive(await fakeCapture());
    const variants: Array<[string, Uint8Array]> = [
      ["cut in the deflate data", gz.subarray(0, gz.length - 40)],
      ["cut in the trailer", gz.subarray(0, gz.length - 3)],
      ["CRC damaged", new Uint8Array(gz).map((b, i) => (i === gz.length - 6 ? b ^ 1 : b))],
      ["length damaged", new Uint8Array(gz).map((b, i) => (i === gz.length - 2 ? b ^ 1 : b))],
    ];
    for (const [what, bytes] of variants) {
      const file = path.join(tmp, "damaged.tar.gz");
      await writeFile(file, bytes);
      const cli = (await sourceError(() => readSource(file))).detail;
      let web = "";
      try {
        readCapture(bytes);
      } catch (err) {
        web = (err as CaptureError).detail;
      }
      expect(cli, what).toMatch(/^(truncated gzip data|not valid gzip data) \(offset 0x[0-9a-f]+: /);
      expect(web, what).toBe(cli);
    }
  });

  it("gzip header with garbage after it", async () => {
    const file = path.join(tmp, "bad.tar.gz");
    await writeFile(file, Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff]));
    expect((await sourceError(() => readSource(file))).detail).toMatch(/^not valid gzip data|^truncated gzip data/);
  });

  it("truncated tar inside an entry", async () => {
    const tar = await validTar();
    const file = path.join(tmp, "cut.tar");
    // first header at 0, then a few dirs; cut in the middle of some entry's data
    await writeFile(file, tar.subarray(0, 512 * 9 + 100));
    const e = await sourceError(() => readSource(file));
    expect(e.detail).toMatch(/^truncated tar archive \(offset 0x[0-9a-f]+: /);
    expect(e.offset).toBeLessThanOrEqual(512 * 9);
  });

  it("tar without an end-of-archive marker", async () => {
    const tar = await validTar();
    const file = path.join(tmp, "cut.tar.gz");
    await writeFile(file, gzipSync(tar.subarray(0, tar.length - 1024)));
    const e = await sourceError(() => readSource(file));
    expect(e.detail).toBe(`truncated tar archive (offset 0x${(tar.length - 1024).toString(16)}: no end-of-archive marker)`);
  });

  it("bad header checksum at 0x200", async () => {
    const tar = await validTar();
    tar[0x200 + 10] ^= 0x55;
    const file = path.join(tmp, "capture.tar.gz");
    await writeFile(file, gzipSync(tar));
    const e = await sourceError(() => readSource(file));
    expect(e.offset).toBe(0x200);
    expect(e.message).toBe(
      `${file}: corrupt tar archive (offset 0x200: bad header checksum); pass a capture made by 'iommu-atlas capture' or scripts/capture.sh`,
    );
  });

  it("not a tar at all", async () => {
    const file = path.join(tmp, "notes.txt");
    await writeFile(file, "hello, this is text and not an archive\n".repeat(40));
    const e = await sourceError(() => readSource(file));
    expect(e.detail).toBe("not a tar archive (offset 0x0: bad header checksum)");
    expect(e.offset).toBe(0);
  });

  it("other compression", async () => {
    const file = path.join(tmp, "capture.tar.xz");
    await writeFile(file, Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1, 2, 3]));
    expect((await sourceError(() => readSource(file))).detail).toMatch(/^xz-compressed/);
  });

  it("a tar without sys/bus/pci", async () => {
    const file = path.join(tmp, "other.tar.gz");
    await writeFile(file, encodeArchive(new Map([["etc/passwd", { kind: "file", data: new Uint8Array([1]) }]])));
    expect((await sourceError(() => readSource(file))).detail).toBe("archive has no sys/bus/pci");
  });

  it("an entry that climbs out of the root", async () => {
    const file = path.join(tmp, "evil.tar.gz");
    const tree = new Map<string, FileTreeEntry>([
      ["sys/bus/pci", { kind: "dir" }],
      ["sys/../../etc/x", { kind: "file", data: new Uint8Array([1]) }],
    ]);
    await writeFile(file, encodeArchive(tree));
    expect((await sourceError(() => readSource(file))).detail).toMatch(/^unsafe tar archive \(offset 0x[0-9a-f]+: path /);
  });
});

describe("writeArchive failures", () => {
  it("throws OutputError and leaves nothing behind when the folder is missing", async () => {
    const file = path.join(tmp, "missing", "capture.tar.gz");
    await expect(writeArchive(await fakeCapture(), file)).rejects.toBeInstanceOf(OutputError);
    expect(await readdir(tmp)).toEqual(["root"]);
  });

  it("removes its temporary file when the final rename fails", async () => {
    const file = path.join(tmp, "taken");
    await mkdir(path.join(file, "inside"), { recursive: true }); // rename onto a non-empty folder fails
    const err = await writeArchive(await fakeCapture(), file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutputError);
    expect((err as OutputError).message).toMatch(/^.*taken: cannot write the capture: /);
    expect((await readdir(tmp)).sort()).toEqual(["root", "taken"]);
    expect(await readFile(path.join(file, "inside")).catch((e: NodeJS.ErrnoException) => e.code)).toBe("EISDIR");
  });
});

describe.skipIf(oracleArchives.length === 0)(
  `the streaming reader against node-tar${oracleArchives.length > 0 ? "" : " (skipped: ../shared/oracle-cases is not here)"}`,
  () => {
    /** every entry node-tar sees, as a tree: an independent reading of the same bytes */
    async function nodeTarTree(file: string): Promise<Map<string, FileTreeEntry>> {
      const { Parser } = await import("tar");
      const tree = new Map<string, FileTreeEntry>();
      const parser = new Parser({ strict: true });
      parser.on("entry", (entry) => {
        const chunks: Buffer[] = [];
        entry.on("data", (c: Buffer) => chunks.push(c));
        entry.on("end", () => {
          const key = entry.path.replace(/^(\.\/)+/, "").replace(/\/+$/, "");
          if (key === "" || key === ".") return;
          if (entry.type === "Directory") tree.set(key, { kind: "dir" });
          else if (entry.type === "SymbolicLink") tree.set(key, { kind: "symlink", target: entry.linkpath ?? "" });
          else if (entry.type === "File") tree.set(key, { kind: "file", data: new Uint8Array(Buffer.concat(chunks)) });
        });
      });
      await new Promise<void>((resolve, reject) => {
        parser.on("end", resolve);
        parser.on("error", reject);
        parser.end(gunzipSync(readFileSync(file)));
      });
      return tree;
    }

    it.each(oracleArchives)("%s: the same entries, bytes and link targets", async (name) => {
      const file = path.join(oracleDir, name);
      const ours = await readSource(file);
      const theirs = await nodeTarTree(file);
      expect([...ours.keys()].sort()).toEqual([...theirs.keys()].sort());
      for (const [k, v] of theirs) expect(ours.get(k), k).toEqual(v);
    });
  },
);
