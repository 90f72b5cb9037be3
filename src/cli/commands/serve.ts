import { UsageError } from "../errors.js";
import { loadLive, loadSource } from "../load.js";
import type { Output } from "../output.js";
import { isLoopback, startServer } from "../serve.js";
import type { Running } from "../serve.js";
import { encodeArchive, readSource } from "../sysfs/archive.js";
import { collectSysfs } from "../sysfs/collect.js";

export interface ServeCommandOptions {
  source?: string | undefined;
  port?: string | undefined;
  host?: string | undefined;
  allowRemote?: boolean | undefined;
}

export const DEFAULT_PORT = 8765;

/** the bytes the page reads: a file as it is; a sysfs folder or this host as a capture archive */
async function sourceBytes(source: string | undefined): Promise<{ bytes: Uint8Array; label: string }> {
  if (source === undefined) {
    await loadLive();
    return { bytes: encodeArchive((await collectSysfs("/")).tree), label: "this host" };
  }
  // read once, with the CLI's own one-line errors, before anything listens (a pipe or stdin can be read only once)
  const { bytes, label } = await loadSource(source, true);
  return { bytes: bytes ?? encodeArchive(await readSource(source)), label };
}

export function parsePort(text: string | undefined): number {
  if (text === undefined) return DEFAULT_PORT;
  const n = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(n >= 0 && n <= 65535)) throw new UsageError(`--port '${text}': expected a port number 0-65535 (0: any free port)`);
  return n;
}

/** starts the server; the caller keeps it running (the command waits for Ctrl-C) */
export async function startServe(opts: ServeCommandOptions, io: Output): Promise<Running> {
  const host = opts.host ?? "127.0.0.1";
  const port = parsePort(opts.port);
  if (!isLoopback(host)) {
    if (!opts.allowRemote) throw new UsageError(`--host '${host}': serve listens on a loopback address only; add --allow-remote to listen on ${host} anyway`);
    io.err(`iommu-atlas: warning: listening on ${host}: anyone who can reach this address can read the machine's PCI details`);
  }
  const { bytes, label } = await sourceBytes(opts.source);
  const running = await startServer({ source: bytes, label, host, port });
  io.out(`serving ${label} at ${running.url} (read-only; Ctrl-C stops)`);
  return running;
}

/** `serve [SOURCE]`: the web page with SOURCE preloaded, until interrupted */
export async function serve(opts: ServeCommandOptions, io: Output): Promise<number> {
  const running = await startServe(opts, io);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  await running.close();
  return 0;
}
