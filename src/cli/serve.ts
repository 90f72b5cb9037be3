/**
 * The local web server of `iommu-atlas serve`: the built page (dist/web)
 * with one machine preloaded, on a loopback address, read-only. Every
 * response carries a strict Content-Security-Policy; requests whose Host
 * header does not name this server are refused, so a web site cannot reach
 * it through DNS rebinding.
 */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { InputError } from "./errors.js";

/** the page Vite builds (dist/web), from src/cli or dist/cli alike */
export const WEB_DIR = fileURLToPath(new URL("../../dist/web/", import.meta.url));

export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".json": "application/json",
};

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export interface ServeOptions {
  /** the preloaded machine's bytes (a capture archive, lspci output or a design) */
  readonly source: Uint8Array;
  /** how the page names it */
  readonly label: string;
  readonly host: string;
  /** 0: any free port */
  readonly port: number;
  readonly webDir?: string;
}

export interface Running {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

const escapeAttr = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** the page's files, read once: nothing outside this list is ever served */
function readPage(dir: string, label: string): Map<string, { type: string; body: Buffer }> {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => statSync(path.join(dir, n)).isFile());
  } catch {
    names = [];
  }
  if (!names.includes("index.html")) throw new InputError(`${dir}: the web page is not built; run 'npm run build' first`);
  const files = new Map<string, { type: string; body: Buffer }>();
  for (const n of names) {
    const type = TYPES[path.extname(n)];
    if (!type) continue;
    let body = readFileSync(path.join(dir, n));
    if (n === "index.html") {
      const meta = `<meta name="iommu-atlas-preload" content="source" data-label="${escapeAttr(label)}">`;
      body = Buffer.from(body.toString("utf8").replace("</head>", `${meta}\n</head>`));
    }
    files.set(`/${n}`, { type, body });
  }
  files.set("/", files.get("/index.html")!);
  return files;
}

function headers(res: ServerResponse, type: string, length: number): void {
  res.setHeader("Content-Type", type);
  res.setHeader("Content-Length", length);
  res.setHeader("Content-Security-Policy", CSP);
  res.setHeader("X-Content-Type-Options", "nosniff");
  res.setHeader("Referrer-Policy", "no-referrer");
  res.setHeader("Cross-Origin-Opener-Policy", "same-origin");
  res.setHeader("Cross-Origin-Resource-Policy", "same-origin");
  res.setHeader("X-Frame-Options", "DENY");
  res.setHeader("Cache-Control", "no-store");
}

function plain(res: ServerResponse, status: number, text: string, extra: Record<string, string> = {}): void {
  const body = Buffer.from(`${text}\n`);
  headers(res, "text/plain; charset=utf-8", body.length);
  for (const [k, v] of Object.entries(extra)) res.setHeader(k, v);
  res.statusCode = status;
  res.end(body);
}

export function startServer(opts: ServeOptions): Promise<Running> {
  const files = readPage(opts.webDir ?? WEB_DIR, opts.label);
  files.set("/source", { type: "application/octet-stream", body: Buffer.from(opts.source) });
  let allowedHosts = new Set<string>();
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const host = (req.headers.host ?? "").toLowerCase();
    if (!allowedHosts.has(host)) {
      plain(res, 421, `host '${host.slice(0, 100)}' is not this server; open the address iommu-atlas serve printed`);
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      plain(res, 405, "read-only: only GET and HEAD", { Allow: "GET, HEAD" });
      return;
    }
    const url = new URL(req.url ?? "/", "http://x");
    const file = files.get(url.pathname);
    if (!file) {
      plain(res, 404, "not found");
      return;
    }
    headers(res, file.type, file.body.length);
    res.statusCode = 200;
    res.end(req.method === "HEAD" ? undefined : file.body);
  };
  const server = createServer(handle);
  return new Promise((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) =>
      reject(new InputError(`${opts.host}:${opts.port}: ${err.code === "EADDRINUSE" ? "the port is in use; pass another with --port" : err.code === "EACCES" ? "not allowed to listen there; pass a port above 1023" : err.message}`)),
    );
    server.listen(opts.port, opts.host, () => {
      const port = (server.address() as AddressInfo).port;
      const names = isLoopback(opts.host) ? ["127.0.0.1", "localhost", "[::1]"] : [opts.host.includes(":") ? `[${opts.host}]` : opts.host];
      allowedHosts = new Set(names.map((n) => `${n}:${port}`));
      const shown = opts.host.includes(":") ? `[${opts.host}]` : opts.host;
      resolve({
        url: `http://${shown === "::1" ? "[::1]" : shown}:${port}/`,
        server,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections(); // browsers keep connections open
          }),
      });
    });
  });
}
