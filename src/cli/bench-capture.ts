/**
 * Synthetic capture archives for the bench: the sysfs files a capture
 * holds (config space, optionally ids and the kernel's groups) for
 * one host bridge and ACS root ports, each with one endpoint of ARI
 * functions, written as a .tar.gz in one streaming pass (a 63,737-function
 * capture is ~300 MB of tar).
 */
import { createWriteStream } from "node:fs";
import { once } from "node:events";
import { createGzip } from "node:zlib";
import { Header } from "tar";
import { buildConfig } from "../core/design/synth-config.js";
import type { SyntheticFunction } from "../core/design/synth-config.js";
import { formatBdf } from "../core/topology/address.js";

const BLOCK = 512;
const EPOCH = new Date(0);

export interface CaptureShape {
  /** root ports on bus 0, each with its own bus below */
  readonly rootPorts: number;
  /** ARI functions of the endpoint below each port */
  readonly functions: number;
  /**
   * also the id files and the kernel's group links and listing; without
   * them a function is its config file and its link, ~5 KiB of tar
   */
  readonly ids?: boolean;
}

/** functions a CaptureShape has */
export const captureSize = (s: CaptureShape): number => 1 + s.rootPorts + s.rootPorts * s.functions;

/** writes tar entries into a gzip file stream, waiting when the stream is full */
class TarGzWriter {
  readonly #gzip = createGzip();
  readonly #file: ReturnType<typeof createWriteStream>;
  readonly #done: Promise<unknown>;

  constructor(path: string) {
    this.#file = createWriteStream(path);
    this.#gzip.pipe(this.#file);
    this.#done = once(this.#file, "close");
  }

  #pending: Uint8Array[] = [];
  #pendingBytes = 0;

  /** collects pieces and hands them to gzip a megabyte at a time */
  async #put(chunk: Uint8Array): Promise<void> {
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    if (this.#pendingBytes >= 1 << 20) await this.#flush();
  }

  async #flush(): Promise<void> {
    const joined = Buffer.concat(this.#pending);
    this.#pending = [];
    this.#pendingBytes = 0;
    if (!this.#gzip.write(joined)) await once(this.#gzip, "drain");
  }

  async entry(path: string, kind: "file" | "dir" | "symlink", data?: Uint8Array | string): Promise<void> {
    const bytes = kind === "file" ? (typeof data === "string" ? new TextEncoder().encode(data) : (data ?? new Uint8Array(0))) : undefined;
    const block = Buffer.alloc(BLOCK);
    const long = new Header({
      path: kind === "dir" ? `${path}/` : path,
      mode: kind === "dir" ? 0o755 : kind === "symlink" ? 0o777 : 0o644,
      uid: 0,
      gid: 0,
      size: bytes?.length ?? 0,
      mtime: EPOCH,
      type: kind === "dir" ? "Directory" : kind === "symlink" ? "SymbolicLink" : "File",
      linkpath: kind === "symlink" ? (data as string) : "",
      uname: "root",
      gname: "root",
    }).encode(block);
    if (long) throw new Error(`bench capture: path too long for a plain tar header: ${path}`);
    await this.#put(block);
    if (bytes && bytes.length > 0) {
      await this.#put(bytes);
      const pad = (BLOCK - (bytes.length % BLOCK)) % BLOCK;
      if (pad > 0) await this.#put(new Uint8Array(pad));
    }
  }

  async close(): Promise<void> {
    await this.#flush();
    this.#gzip.end(new Uint8Array(2 * BLOCK));
    await this.#done;
  }
}

const hexFile = (n: number, width: number): string => `0x${n.toString(16).padStart(width, "0")}\n`;

/**
 * Writes the capture of `shape` to `path`: every function ACS-isolated, so
 * each is a group of its own (with `ids`, the kernel's groups recorded as a real
 * capture records them).
 */
export async function writeSyntheticCapture(path: string, shape: CaptureShape): Promise<number> {
  const out = new TarGzWriter(path);
  const ROOT = "sys/devices/pci0000:00";
  let group = 0;
  let count = 0;
  const fn = async (dir: string, bus: number, devfn: number, f: SyntheticFunction, classCode: number): Promise<void> => {
    const bdf = formatBdf(0, bus, devfn);
    const path = `${dir}/${bdf}`;
    const config = buildConfig(f);
    await out.entry(`${path}/config`, "file", config);
    await out.entry(`sys/bus/pci/devices/${bdf}`, "symlink", `../../../${path.slice("sys/".length)}`);
    if (shape.ids) {
      await out.entry(`${path}/vendor`, "file", hexFile(f.vendor ?? 0x1234, 4));
      await out.entry(`${path}/device`, "file", hexFile(f.device ?? 0x5678, 4));
      await out.entry(`${path}/class`, "file", hexFile(classCode, 6));
      await out.entry(`${path}/iommu_group`, "symlink", `${"../".repeat(path.split("/").length - 1)}kernel/iommu_groups/${group}`);
      await out.entry(`sys/kernel/iommu_groups/${group}/devices/${bdf}`, "symlink", `../../../../${path.slice("sys/".length)}`);
    }
    group++;
    count++;
  };
  await out.entry("proc/cmdline", "file", "BOOT_IMAGE=/vmlinuz root=/dev/vda intel_iommu=on\n");
  await out.entry("proc/sys/kernel/osrelease", "file", "6.1.0-bench\n");
  await fn(ROOT, 0, 0, { vendor: 0x8086, device: 0x29c0, classCode: 0x060000, multifunction: true }, 0x060000);
  const acs = { cap: 0x5f, ctrl: 0x1d };
  for (let i = 0; i < shape.rootPorts; i++) {
    const bus = i + 1;
    const port = { vendor: 0x8086, device: 0x7075, headerType: 1, pcieType: 4, ariForwarding: true, acs, bus: { primary: 0, secondary: bus, subordinate: bus } };
    await fn(ROOT, 0, i + 1, port, 0x060400);
    const portDir = `${ROOT}/${formatBdf(0, 0, i + 1)}`;
    for (let f = 0; f < shape.functions; f++) {
      const next = f + 1 < shape.functions ? f + 1 : 0;
      await fn(portDir, bus, f, { vendor: 0x15b3, device: 0x101e, pcieType: 0, multifunction: true, ari: { nextFunction: next }, acs }, 0x020000);
    }
  }
  await out.close();
  return count;
}
