import { deflateRawSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { MAX_STATE_BYTES, decodeState, encodeState } from "./share.js";
import { INITIAL } from "./state.js";
import type { PageState } from "./state.js";

const link = (json: string, level = 6): string => `#s=${deflateRawSync(Buffer.from(json), { level }).toString("base64url")}`;

describe("the page state in a shared link", () => {
  it("reads back what the page writes", () => {
    const state: PageState = {
      input: { kind: "text", name: "pasted", text: "00:00.0 Host bridge [0600]: Intel Corporation 440FX [8086:1237]\n" },
      whatif: { kernel: "6.1", override: "downstream", disableAcsRedir: undefined, configAcs: "0000:00:1c.0@xx1xxxx", acs: [{ bdf: "0000:00:1c.0", set: 0x10, clear: 0x4 }] },
      selected: "0000:00:00.0",
      search: "nvme",
      hidden: ["storage"],
      toggled: ["0000:01:00.0"],
      plan: "guests:\n  vm1:\n    devices: ['0000:00:00.0']\n",
    };
    expect(decodeState(encodeState(state))).toEqual(state);
    expect(decodeState(encodeState(INITIAL))).toEqual(INITIAL);
  });

  it("no #s= fragment is no state; fields left out take the page's defaults", () => {
    expect(decodeState("")).toBeUndefined();
    expect(decodeState("#groups")).toBeUndefined();
    expect(decodeState(link('{"v":1}'))).toEqual(INITIAL);
  });

  it("refuses a damaged, foreign or hostile link with one line that says what to do", () => {
    const cases: [string, RegExp][] = [
      ["#s=%%%", /damaged/],
      ["#s=AAAA", /damaged/],
      [link("[1,2]"), /damaged/],
      [link('{"v":2}'), /another version/],
      [link('{"v":1,"whatif":{"acs":[{"bdf":"0000:00:1c.0","set":"all","clear":0}]}}'), /link's whatif\.acs\[0\]\.set is not what this page writes there/],
      [link('{"v":1,"input":{"kind":"file","path":"/etc/passwd"}}'), /link's input\.kind /],
      [link(`{"v":1,"input":${"[".repeat(1_000_000)}`, 9), /damaged/],
      [link("0".repeat(MAX_STATE_BYTES + 1), 9), /inflates to more than 32 MiB/],
    ];
    for (const [hash, message] of cases) {
      const r = decodeState(hash);
      expect(typeof r, hash.slice(0, 40)).toBe("string");
      expect(r).toMatch(message);
      expect(r).toMatch(/; (paste|drop)/);
      expect(r as string).not.toMatch(/[\n\r]/);
    }
  });
});
