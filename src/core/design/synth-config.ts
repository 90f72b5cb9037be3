/**
 * Builds config space images from declared facts (designs, tests):
 * a header plus standard and extended capability chains, laid out the way
 * real hardware does (standard caps from 0x40, extended from 0x100).
 */
export interface SyntheticFunction {
  vendor?: number;
  device?: number;
  classCode?: number;
  /** 0 normal, 1 bridge */
  headerType?: number;
  multifunction?: boolean;
  bus?: { primary: number; secondary: number; subordinate: number };
  /** PCIe type; omit for a conventional function */
  pcieType?: number;
  phantom?: number;
  /** ACS capability/control; omit for none */
  acs?: { cap: number; ctrl: number };
  ari?: { nextFunction: number };
  ariForwarding?: boolean;
  sriov?: { totalVFs: number; numVFs: number; offset: number; stride: number; vfDevice: number; enabled?: boolean };
  subsystem?: { vendor: number; device: number };
  /** bytes to keep (64, 256, 4096) */
  size?: number;
}

export function buildConfig(f: SyntheticFunction): Uint8Array {
  const b = new Uint8Array(4096);
  const v = new DataView(b.buffer);
  v.setUint16(0x00, f.vendor ?? 0x1234, true);
  v.setUint16(0x02, f.device ?? 0x5678, true);
  const cls = f.classCode ?? (f.headerType === 1 ? 0x060400 : 0x020000);
  b[0x09] = cls & 0xff;
  v.setUint16(0x0a, cls >> 8, true);
  b[0x0e] = (f.headerType ?? 0) | (f.multifunction ? 0x80 : 0);
  if (f.bus) {
    b[0x18] = f.bus.primary;
    b[0x19] = f.bus.secondary;
    b[0x1a] = f.bus.subordinate;
  } else if (f.subsystem) {
    v.setUint16(0x2c, f.subsystem.vendor, true);
    v.setUint16(0x2e, f.subsystem.device, true);
  }
  let next = 0x40;
  const std: number[] = [];
  if (f.pcieType !== undefined) {
    std.push(next);
    b[next] = 0x10;
    v.setUint16(next + 2, 0x0002 | (f.pcieType << 4), true);
    v.setUint32(next + 4, ((f.phantom ?? 0) & 3) << 3, true);
    if (f.ariForwarding) {
      v.setUint32(next + 0x24, 0x20, true);
      v.setUint16(next + 0x28, 0x20, true);
    }
    next += 0x3c;
  }
  if (std.length > 0) {
    b[0x06] = 0x10; // capability list
    b[0x34] = std[0]!;
  }
  const ext: Array<[number, (o: number) => void]> = [];
  if (f.acs) {
    const acs = f.acs;
    ext.push([0x000d, (o) => {
      v.setUint16(o + 4, acs.cap, true);
      v.setUint16(o + 6, acs.ctrl, true);
    }]);
  }
  if (f.ari) {
    const ari = f.ari;
    ext.push([0x000e, (o) => v.setUint16(o + 4, ari.nextFunction << 8, true)]);
  }
  if (f.sriov) {
    const s = f.sriov;
    ext.push([0x0010, (o) => {
      v.setUint16(o + 8, s.enabled === false ? 0 : 1, true);
      v.setUint16(o + 0x0c, s.totalVFs, true);
      v.setUint16(o + 0x0e, s.totalVFs, true);
      v.setUint16(o + 0x10, s.numVFs, true);
      v.setUint16(o + 0x14, s.offset, true);
      v.setUint16(o + 0x16, s.stride, true);
      v.setUint16(o + 0x1a, s.vfDevice, true);
    }]);
  }
  if (f.pcieType !== undefined) {
    let pos = 0x100;
    ext.forEach(([id, fill], i) => {
      const nextPos = i + 1 < ext.length ? pos + 0x40 : 0;
      v.setUint32(pos, id | (1 << 16) | (nextPos << 20), true);
      fill(pos);
      pos = nextPos;
    });
  }
  const size = f.size ?? (f.pcieType !== undefined ? 4096 : 256);
  return b.slice(0, size);
}
