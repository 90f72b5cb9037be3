/**
 * A bug report or mail that carries `lspci -vv` after pages of headers,
 * dmesg and other logs — quoted-printable encoded, or hard-wrapped at 78
 * columns by a mail client — reads like the plain dump.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { predict } from "../iommu/predict.js";
import { PciIds } from "../pci-ids/pci-ids.js";
import type { Snapshot } from "../sources/snapshot.js";
import { looksLikeLspci, snapshotFromLspci } from "./index.js";
import { decodeQuotedPrintable, isQuotedPrintable } from "./mail.js";

const here = path.dirname(new URL(import.meta.url).pathname);
const shared = path.resolve("..", "shared", "corpus", "lspci-vvnn", "11-laptop-intel-thinkpad13-kabylake.txt");
const DUMP = readFileSync(existsSync(shared) ? shared : path.join(here, "fixtures", "corpus", "15-ryzen-zen1-a320-chipset-kernel4.txt"), "utf8");

/** pages of what precedes lspci output in a report: mail headers, prose, dmesg */
function preamble(qp: boolean): string {
  const lines = [
    "From: Some User <user@example.org>",
    "To: linux-pci@vger.kernel.org",
    "Subject: [BUG] IOMMU groups merge my root ports after upgrade",
    "Date: Mon, 7 Dec 2026 10:00:00 +0000",
    "MIME-Version: 1.0",
    `Content-Type: text/plain; charset=${qp ? "utf-8" : "us-ascii"}`,
    `Content-Transfer-Encoding: ${qp ? "quoted-printable" : "7bit"}`,
    "",
    "Hi all, after the upgrade every port lands in one group. Full dmesg and lspci below.",
    "",
  ];
  for (let i = 0; i < 600; i++) {
    const t = (i * 0.0137).toFixed(6).padStart(12, " ");
    lines.push(i % 3 === 0 ? `[${t}] pci 0000:00:1c.0: [8086:9d10] type 01 class 0x060400` : i % 3 === 1 ? `[${t}] DMAR: dmar0: reg_base_addr fed90000 ver 1:0 cap 1c0000c40660462 ecap 19e2ff0505e` : `[${t}] BIOS-e820: [mem 0x0000000000100000-0x000000007fffffff] usable`);
  }
  lines.push("", "$ sudo lspci -vvnn");
  return lines.join("\n");
}

/** RFC 2045 encoding: `=` as =3D, lines over 76 characters broken with a soft `=` */
function quotedPrintable(text: string): string {
  return text
    .split("\n")
    .map((line) => {
      const enc = line.replace(/=/g, "=3D").replace(/[\u0080-\uffff]/g, (c) => [...new TextEncoder().encode(c)].map((b) => `=${b.toString(16).toUpperCase().padStart(2, "0")}`).join(""));
      const out: string[] = [];
      let rest = enc;
      while (rest.length > 76) {
        let cut = 75;
        while (rest[cut - 1] === "=" || rest[cut - 2] === "=") cut--; // never split an =XX
        out.push(`${rest.slice(0, cut)}=`);
        rest = rest.slice(cut);
      }
      out.push(rest);
      return out.join("\n");
    })
    .join("\n");
}

/** a mail client's hard wrap at 78 columns, at spaces, continuation flush left */
function hardWrap(text: string): string {
  return text
    .split("\n")
    .map((line) => {
      const out: string[] = [];
      let rest = line.replace(/\t/g, "        ");
      while (rest.length > 78) {
        let cut = 78;
        while (cut > 0 && rest[cut] !== " ") cut--;
        if (cut <= 0) break;
        out.push(rest.slice(0, cut));
        rest = rest.slice(cut + 1);
      }
      out.push(rest);
      return out.join("\n");
    })
    .join("\n");
}

const groupsOf = (s: Snapshot): string[][] => predict(s).groups.groups.map((g) => [...g.members].sort());
const acsOf = (s: Snapshot): string[] => [...s.topology.functions.values()].map((f) => `${f.bdf} ${f.acs.state}`);

describe("lspci inside a bug report", () => {
  const plain = snapshotFromLspci(DUMP);
  if (!plain.ok) throw new Error("corpus dump unreadable");

  it.each([
    ["after 600 lines of headers and dmesg", preamble(false) + "\n" + DUMP],
    ["quoted-printable, with soft breaks and =3D", quotedPrintable(preamble(true) + "\n" + DUMP)],
    ["hard-wrapped at 78 columns", hardWrap(preamble(false) + "\n" + DUMP)],
  ])("%s", (_name, text) => {
    expect(looksLikeLspci(text)).toBe(true);
    const r = snapshotFromLspci(text);
    if (!r.ok) throw new Error(`${r.line}: ${r.reason}`);
    expect(r.snapshot.topology.functions.size).toBe(plain.snapshot.topology.functions.size);
    expect(acsOf(r.snapshot)).toEqual(acsOf(plain.snapshot));
    expect(groupsOf(r.snapshot)).toEqual(groupsOf(plain.snapshot));
  });

  it("the encodings the test builds are real: long lines broken, = encoded", () => {
    const qp = quotedPrintable(DUMP);
    expect(qp).toMatch(/=\n/);
    expect(qp).toContain("primary=3D00");
    expect(isQuotedPrintable(qp)).toBe(true);
    expect(decodeQuotedPrintable(qp)).toBe(DUMP);
    const wrapped = hardWrap(DUMP).split("\n");
    expect(wrapped.length).toBeGreaterThan(DUMP.split("\n").length + 20);
    expect(wrapped.every((l) => l.length <= 78 || !l.slice(0, 78).includes(" "))).toBe(true);
  });

  it("text that only uses = is left alone", () => {
    expect(decodeQuotedPrintable("\tBus: primary=00, secondary=01, subordinate=01\n")).toBe("\tBus: primary=00, secondary=01, subordinate=01\n");
  });
});

describe("quoted-printable bytes", () => {
  it("decodes UTF-8 sequences and marks broken ones", () => {
    const qp = "Content-Transfer-Encoding: quoted-printable\n\nCaf=C3=A9 =E2=80=94 ok =FF\n";
    expect(decodeQuotedPrintable(qp)).toBe("Content-Transfer-Encoding: quoted-printable\n\nCafé — ok \ufffd\n");
  });
});

describe("a real bug-report mail: plain lspci without -nn, quoted-printable, hard-wrapped (fixtures/README.md)", () => {
  const mail = readFileSync(path.join(here, "fixtures", "mail", "bugzilla-214751-lspci-qp.eml.txt"), "utf8");
  const ids = PciIds.parse(gunzipSync(readFileSync(path.resolve("data", "pci.ids.gz"))).toString("utf8"));

  it("is read, every wrapped device line rejoined and named back to its ids", () => {
    expect(looksLikeLspci(mail)).toBe(true);
    const r = snapshotFromLspci(mail, { pciIds: ids });
    if (!r.ok) throw new Error(r.reason);
    const fns = r.snapshot.topology.functions;
    expect(fns.size).toBe(22);
    const id = (bdf: string): string => `${fns.get(bdf)!.vendor.toString(16)}:${fns.get(bdf)!.device.toString(16).padStart(4, "0")}`;
    // wrapped as "Root Por=" / "t #4" / "(rev f1)": the Sunrise Point-LP port the Intel PCH ACS quirk knows
    expect(id("0000:00:1c.0")).toBe("8086:9d13");
    expect(fns.get("0000:00:1c.0")!.revision).toBe(0xf1);
    expect(id("0000:00:04.0")).toBe("8086:1903"); // "E3-=" / "1500" / "v5/6th …"
    expect(id("0000:00:14.1")).toBe("8086:9d30"); // lspci's own "Device 9d30"
    expect(id("0000:01:00.0")).toBe("8086:095a"); // the signature after the blank line is not part of it
    expect(r.warnings).toContainEqual({ code: "ids-from-names", functions: 22, version: "2023.04.10" });
    expect(r.warnings.filter((w) => w.code === "ids-name-ambiguous").map((w) => w.code === "ids-name-ambiguous" && w.bdf)).toEqual(["0000:00:00.0", "0000:00:1f.3", "0000:01:00.0"]);
    expect(r.warnings.some((w) => w.code === "ids-unknown")).toBe(false);
  });
});
