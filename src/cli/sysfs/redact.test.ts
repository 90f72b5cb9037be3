import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { zeroDeviceSerial } from "./redact.js";

/** writes an extended capability header: id, version 1, next */
function extCap(config: Uint8Array, at: number, id: number, next: number): void {
  new DataView(config.buffer).setUint32(at, id | (1 << 16) | (next << 20), true);
}

function patterned(size: number): Uint8Array {
  const c = new Uint8Array(size);
  for (let i = 0; i < size; i++) c[i] = (i * 31 + 7) & 0xff;
  return c;
}

describe("zeroDeviceSerial", () => {
  it("zeroes the 8 serial bytes of a DSN in a 4096-byte config and nothing else", () => {
    const config = patterned(4096);
    extCap(config, 0x100, 0x0001, 0x148); // AER
    extCap(config, 0x148, 0x0003, 0x160); // DSN
    extCap(config, 0x160, 0x000d, 0x000); // ACS, end
    const before = config.slice();

    const out = zeroDeviceSerial(config);

    const expected = before.slice();
    expected.fill(0, 0x14c, 0x154);
    expect(out).toEqual(expected);
    expect(config).toEqual(before); // input untouched
  });

  it("returns the input itself when there is no DSN", () => {
    const config = patterned(4096);
    extCap(config, 0x100, 0x000d, 0x000);
    expect(zeroDeviceSerial(config)).toBe(config);
  });

  it("ignores configs without extended space (64 and 256 bytes)", () => {
    for (const size of [0, 64, 256]) {
      const config = patterned(size);
      expect(zeroDeviceSerial(config)).toBe(config);
    }
  });

  it("stops on a looping chain and still zeroes the DSN in it", () => {
    const config = patterned(4096);
    extCap(config, 0x100, 0x0003, 0x200);
    extCap(config, 0x200, 0x000d, 0x100); // back to 0x100
    const out = zeroDeviceSerial(config);
    expect([...out.subarray(0x104, 0x10c)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(out.subarray(0x10c)).toEqual(config.subarray(0x10c));
  });

  it("stops at an all-ones header and leaves a DSN cut off by the end of the buffer", () => {
    const ones = patterned(4096);
    new DataView(ones.buffer).setUint32(0x100, 0xffffffff, true);
    expect(zeroDeviceSerial(ones)).toBe(ones);

    const short = patterned(0x108); // DSN header present, serial incomplete
    extCap(short, 0x100, 0x0003, 0);
    expect(zeroDeviceSerial(short)).toBe(short);
  });

  it("on any bytes, changes only DSN serial bytes, to zero", () => {
    const config = fc.uint8Array({ minLength: 0, maxLength: 4096 });
    fc.assert(
      fc.property(config, fc.integer({ min: 0x40, max: 0x3ff }), (bytes, firstNext) => {
        // make a chain likely: point 0x100 at a random dword and mark it DSN
        if (bytes.length >= 0x104) {
          const view = new DataView(bytes.buffer, bytes.byteOffset);
          view.setUint32(0x100, 0x0003 | ((firstNext * 4) << 20), true);
        }
        const out = zeroDeviceSerial(bytes);
        expect(out.length).toBe(bytes.length);
        const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        for (let i = 0; i < bytes.length; i++) {
          if (out[i] === bytes[i]) continue;
          expect(out[i]).toBe(0);
          // some dword-aligned DSN header sits 4..11 bytes before i
          let dsnHeader = false;
          for (let h = Math.max(0x100, i - 11); h <= i - 4; h++) {
            if (h % 4 === 0 && (view.getUint32(h, true) & 0xffff) === 0x0003) dsnHeader = true;
          }
          expect(dsnHeader).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});
