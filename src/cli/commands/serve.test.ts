import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { request } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readCapture } from "../../core/capture/index.js";
import { snapshotFromSysfs } from "../../core/sources/from-sysfs.js";
import { main } from "../main.js";
import { CSP, WEB_DIR, startServer } from "../serve.js";
import type { Running } from "../serve.js";
import { makeFakeSysfs } from "../sysfs/fake-sysfs.js";
import { recorder } from "../testing.js";
import { startServe } from "./serve.js";

const DESIGN = path.resolve("examples/designs/gpu-behind-switch.yaml");

function get(port: number, urlPath: string, opts: { host?: string; method?: string } = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: urlPath, method: opts.method ?? "GET", headers: { Host: opts.host ?? `127.0.0.1:${port}` } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    req.end(opts.method === "POST" || opts.method === "PUT" ? "x=1" : undefined);
  });
}

const built = existsSync(path.join(WEB_DIR, "index.html"));

describe.skipIf(!built)(`iommu-atlas serve (skipped when ${WEB_DIR} is not built)`, () => {
  let running: Running;
  let port: number;
  const io = recorder();
  beforeAll(async () => {
    running = await startServe({ source: DESIGN, port: "0" }, io);
    port = (running.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await running?.close();
  });

  it("listens on 127.0.0.1 only and prints the URL", () => {
    expect((running.server.address() as AddressInfo).address).toBe("127.0.0.1");
    expect(io.text()).toBe(`serving ${DESIGN} at http://127.0.0.1:${port}/ (read-only; Ctrl-C stops)`);
  });

  it("serves the page with the strict CSP and the source preloaded from the same origin", async () => {
    const page = await get(port, "/");
    expect(page.status).toBe(200);
    expect(page.headers["content-security-policy"]).toBe(CSP);
    expect(CSP).toContain("default-src 'none'");
    expect(CSP).not.toContain("unsafe");
    expect(page.headers["x-content-type-options"]).toBe("nosniff");
    expect(page.body.toString()).toContain('<meta name="iommu-atlas-preload" content="source"');
    const source = await get(port, "/source");
    expect(source.status).toBe(200);
    expect(source.headers["content-security-policy"]).toBe(CSP);
    expect(Buffer.compare(source.body, readFileSync(DESIGN))).toBe(0);
    for (const name of ["localhost", "[::1]"]) expect((await get(port, "/", { host: `${name}:${port}` })).status).toBe(200);
  });

  it("refuses a Host header that does not name it (DNS rebinding)", async () => {
    for (const host of ["evil.example", `evil.example:${port}`, `127.0.0.1:${port + 1}`, "127.0.0.1", `attacker.example.127.0.0.1.nip.io:${port}`]) {
      const r = await get(port, "/source", { host });
      expect(r.status, host).toBe(421);
      expect(r.body.length).toBeLessThan(200);
    }
  });

  it("is read-only and serves nothing outside the page", async () => {
    for (const method of ["POST", "PUT", "DELETE"]) {
      const r = await get(port, "/source", { method });
      expect(r.status, method).toBe(405);
      expect(r.headers["allow"]).toBe("GET, HEAD");
    }
    for (const p of ["/../package.json", "/%2e%2e/package.json", "/src/cli/serve.ts", "/dist/web/app.js"]) expect((await get(port, p)).status, p).toBe(404);
  });
});

describe("iommu-atlas serve refuses what it should not do", () => {
  it("refuses a non-loopback address unless --allow-remote", async () => {
    const io = recorder();
    expect(await main(["serve", DESIGN, "--host", "0.0.0.0", "--port", "0"], io)).toBe(2);
    expect(io.errors()).toBe("iommu-atlas: --host '0.0.0.0': serve listens on a loopback address only; add --allow-remote to listen on 0.0.0.0 anyway");
  });

  it.skipIf(!built)("with --allow-remote it listens there and warns", async () => {
    const io = recorder();
    const running = await startServe({ source: DESIGN, host: "0.0.0.0", port: "0", allowRemote: true }, io);
    try {
      expect((running.server.address() as AddressInfo).address).toBe("0.0.0.0");
      expect(io.errors()).toMatch(/^iommu-atlas: warning: listening on 0\.0\.0\.0: anyone who can reach this address/);
    } finally {
      await running.close();
    }
  });

  it.skipIf(!built)("a hostile source name stays an attribute value in the page", async () => {
    const label = `x"><script>alert(1)</script><img src=x onerror=alert(2)>'`;
    const running = await startServer({ source: new Uint8Array([1, 2, 3]), label, host: "127.0.0.1", port: 0 });
    try {
      const page = (await get((running.server.address() as AddressInfo).port, "/")).body.toString();
      expect(page).toContain('data-label="x&#34;&#62;&#60;script&#62;alert(1)&#60;/script&#62;&#60;img src=x onerror=alert(2)&#62;&#39;"');
      expect(page).not.toContain("<script>alert");
    } finally {
      await running.close();
    }
  });

  it.skipIf(!built)("a sysfs folder is served as a capture archive the page's reader takes", async () => {
    const root = mkdtempSync(path.join(tmpdir(), "iommu-atlas-serve-"));
    const bdfs = await makeFakeSysfs(root);
    const running = await startServe({ source: root, port: "0" }, recorder());
    try {
      const body = (await get((running.server.address() as AddressInfo).port, "/source")).body;
      expect([body[0], body[1]]).toEqual([0x1f, 0x8b]);
      const snapshot = snapshotFromSysfs(readCapture(new Uint8Array(body)));
      expect([...snapshot.topology.functions.keys()].sort()).toEqual([...bdfs].sort());
    } finally {
      await running.close();
    }
  });

  it("bad SOURCE or port: one line, exit 2, nothing listens", async () => {
    const io = recorder();
    expect(await main(["serve", "no-such-file.txt", "--port", "0"], io)).toBe(2);
    expect(io.errors()).toMatch(/^iommu-atlas: no-such-file.txt: no such file or folder; [^\n]+$/);
    const io2 = recorder();
    expect(await main(["serve", DESIGN, "--port", "99999"], io2)).toBe(2);
    expect(io2.errors()).toMatch(/^iommu-atlas: --port '99999': expected a port number/);
  });
});
