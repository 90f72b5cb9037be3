// Seeded topology generator, topology checker and QEMU argv builder for the kernel oracle.
//
// A topology has the shape of the recorded cases in shared/oracle-cases:
//   {name, description, devices: [{id, driver, bus, addr?, props?}], kernel_args?, iommu?}
// `devices` is in creation order (a bus is created before what sits on it), `addr` is
// "slot.function" in hex, `iommu` is "amd" for -device amd-iommu and absent for Intel.
//
// Plain ESM JavaScript with JSDoc types so that Node 20 runs it without a build step;
// gen.d.mts declares the same API for the TypeScript tests.

/** @typedef {{id: string, driver: string, bus: string, addr?: string, props?: Record<string, string | number>}} TopologyDevice */
/** @typedef {{name: string, description: string, devices: TopologyDevice[], kernel_args?: string, iommu?: "amd" | "intel"}} Topology */

// ---------------------------------------------------------------------------------------------
// PRNG

/**
 * mulberry32: a tiny 32-bit PRNG; the same seed gives the same sequence on every platform.
 * @param {number} seed
 * @returns {() => number} uniform in [0, 1)
 */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Helpers over a uniform source. */
class Rng {
  /** @param {number} seed */
  constructor(seed) {
    this.next = mulberry32(seed);
  }
  /** integer in [lo, hi] */
  int(/** @type {number} */ lo, /** @type {number} */ hi) {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(/** @type {number} */ p) {
    return this.next() < p;
  }
  /** @template T @param {readonly T[]} items @returns {T} */
  pick(items) {
    return /** @type {T} */ (items[Math.floor(this.next() * items.length)]);
  }
  /** @template {string} K @param {Partial<Record<K, number>>} weights @returns {K} */
  weighted(weights) {
    const entries = /** @type {[K, number][]} */ (Object.entries(weights).filter(([, w]) => Number(w) > 0));
    let total = 0;
    for (const [, w] of entries) total += w;
    let x = this.next() * total;
    for (const [k, w] of entries) {
      x -= w;
      if (x < 0) return k;
    }
    return /** @type {[K, number]} */ (entries[entries.length - 1])[0];
  }
  /** Fisher-Yates copy. @template T @param {readonly T[]} items @returns {T[]} */
  shuffle(items) {
    const a = items.slice();
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const t = /** @type {T} */ (a[i]);
      a[i] = /** @type {T} */ (a[j]);
      a[j] = t;
    }
    return a;
  }
}

// ---------------------------------------------------------------------------------------------
// What QEMU 7.2 devices are

export const ROOT_PORT_DRIVERS = ["pcie-root-port", "ioh3420"];
export const DOWNSTREAM_PORT_DRIVERS = ["xio3130-downstream"];
export const UPSTREAM_PORT_DRIVERS = ["x3130-upstream"];
/** Bridges whose secondary bus is conventional PCI. */
export const PCI_BRIDGE_DRIVERS = ["pcie-pci-bridge", "pci-bridge", "i82801b11-bridge"];
/** Bridges with a standard hot-plug controller: slot 0 of their bus cannot be used. */
const SHPC_BRIDGE_DRIVERS = ["pcie-pci-bridge", "pci-bridge"];
export const EXPANDER_DRIVERS = ["pxb-pcie"];
/** NICs carry an iPXE option ROM unless romfile= is given. */
export const NIC_DRIVERS = ["e1000", "e1000e", "rtl8139", "virtio-net-pci"];

/** Endpoints that are PCI Express devices below a PCIe port (virtio turns modern there). */
const PCIE_ENDPOINTS = [
  "e1000e",
  "nvme",
  "virtio-net-pci",
  "virtio-rng-pci",
  "virtio-serial-pci",
  "virtio-keyboard-pci",
  "virtio-mouse-pci",
];
/** Endpoints for conventional PCI buses. */
const CONVENTIONAL_ENDPOINTS = [
  "e1000",
  "rtl8139",
  "pci-serial",
  "virtio-net-pci",
  "virtio-rng-pci",
  "virtio-mouse-pci",
  "virtio-keyboard-pci",
  "ich9-usb-uhci1",
];
/** Devices placed directly on pcie.0 (e1000e/nvme become RCiEPs; virtio stays conventional). */
const ROOT_BUS_ENDPOINTS = [
  "e1000e",
  "nvme",
  "virtio-net-pci",
  "virtio-rng-pci",
  "e1000",
  "rtl8139",
  "ich9-intel-hda",
  "pci-serial",
];

/** Built-in functions of QEMU's q35 machine with -nodefaults. */
const Q35_BUILTIN_BDFS = ["0000:00:00.0", "0000:00:1f.0", "0000:00:1f.2", "0000:00:1f.3"];
/** Where -device amd-iommu lands when it is the first device: the first free slot of pcie.0. */
export const AMD_IOMMU_BDF = "0000:00:01.0";

/** @param {string} driver */
export function busKindOf(driver) {
  if (ROOT_PORT_DRIVERS.includes(driver) || DOWNSTREAM_PORT_DRIVERS.includes(driver)) return "port";
  if (UPSTREAM_PORT_DRIVERS.includes(driver)) return "switch";
  if (PCI_BRIDGE_DRIVERS.includes(driver)) return "pci";
  if (EXPANDER_DRIVERS.includes(driver)) return "expander";
  return null;
}

// ---------------------------------------------------------------------------------------------
// Generator

/**
 * @typedef {object} GenerateOptions
 * @property {"intel" | "amd"} [iommu] force the IOMMU; by default the seed picks it (about 30 % AMD)
 * @property {number} [maxDevices] upper bound of the device budget (default 28)
 */

/**
 * Generates a random but reproducible topology that QEMU 7.2 accepts.
 * @param {number} seed 32-bit unsigned
 * @param {GenerateOptions} [options]
 * @returns {Topology}
 */
export function generateTopology(seed, options = {}) {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new RangeError(`seed must be an integer in 0..4294967295, got ${seed}`);
  }
  const rng = new Rng(seed);
  const iommuPick = rng.chance(0.3) ? "amd" : "intel"; // always drawn, so --iommu keeps the rest
  const iommu = options.iommu ?? iommuPick;
  const g = new Generator(rng, iommu, rng.int(3, Math.max(3, options.maxDevices ?? 28)));
  g.fillRootBus();

  /** @type {Topology} */
  const topology = {
    name: `gen-${seed}${options.iommu !== undefined ? `-${iommu}` : ""}`,
    description: "",
    devices: g.devices,
  };
  /** @type {string[]} */
  const kargs = [];
  if (g.acsRootPorts.length > 0 && rng.chance(0.2)) {
    const n = Math.min(g.acsRootPorts.length, rng.int(1, 2));
    const chosen = rng.shuffle(g.acsRootPorts).slice(0, n).sort();
    kargs.push(`pci=disable_acs_redir=${chosen.join(";")}`);
  }
  // With pci=pcie_scan_all Linux also scans device numbers other than 0 below a PCIe port.
  if (g.hiddenBelowPort && rng.chance(0.4)) kargs.push("pci=pcie_scan_all");
  // pci=config_acs= (6.11 on; 6.1 ignores it). Drawn last, so that it leaves the devices and the
  // other arguments of a seed as they were.
  if (g.acsRootPorts.length > 0 && rng.chance(0.3)) kargs.push(`pci=config_acs=${configAcsValue(rng, g.acsRootPorts)}`);
  if (kargs.length > 0) topology.kernel_args = kargs.join(" ");
  if (iommu === "amd") topology.iommu = "amd";
  topology.description =
    `tools/kernel-oracle gen.mjs --seed ${seed}${options.iommu !== undefined ? ` --iommu ${iommu}` : ""}: ` +
    describeFeatures(topology).join(", ");
  return topology;
}

/**
 * A `config_acs=` value for some of `ports`: entries `<flags>@<bdf>` joined by ';', flags read
 * right to left (SV TB RR CR UF EC DT) as 0 (clear), 1 (set) or x (firmware's value). About a
 * quarter of the values also hold a form the kernel rejects: a flag character other than 0, 1, x
 * ("1y1"), a flag beyond DT ("10000000"), or an entry without '@' at the end.
 * @param {Rng} rng
 * @param {string[]} ports
 */
function configAcsValue(rng, ports) {
  const chosen = rng.shuffle(ports).slice(0, Math.min(ports.length, rng.int(1, 2)));
  const flags = () => Array.from({ length: rng.int(1, 7) }, () => rng.pick(["0", "1", "x", "x"])).join("");
  const entries = chosen.map((p) => `${flags()}@${p}`);
  if (rng.chance(0.25)) {
    const form = rng.int(0, 2);
    const at = rng.int(0, entries.length);
    const target = rng.pick(ports);
    if (form === 0) entries.splice(at, 0, `1y1@${target}`);
    else if (form === 1) entries.splice(at, 0, `10000000@${target}`);
    else entries.push(flags());
  }
  return entries.join(";");
}

class Generator {
  /** @param {Rng} rng @param {"intel" | "amd"} iommu @param {number} budget */
  constructor(rng, iommu, budget) {
    this.rng = rng;
    this.iommu = iommu;
    this.budget = budget;
    /** @type {TopologyDevice[]} */
    this.devices = [];
    this.counter = 0;
    /** BDFs of root ports that keep their ACS capability (candidates for disable_acs_redir). */
    /** @type {string[]} */
    this.acsRootPorts = [];
    /** @type {number[]} */
    this.pxbBusNrs = [];
    /** Whether some device sits at a device number other than 0 below a PCIe port. */
    this.hiddenBelowPort = false;
  }

  /**
   * @param {string} prefix
   * @param {string} driver
   * @param {string} bus
   * @param {string | undefined} addr
   * @param {Record<string, string | number>} [props]
   */
  add(prefix, driver, bus, addr, props = {}) {
    const id = `${prefix}${++this.counter}`;
    /** @type {TopologyDevice} */
    const dev = { id, driver, bus };
    if (addr !== undefined) dev.addr = addr;
    const p = { ...props };
    if (driver === "nvme") p.serial = `sn${this.counter}`;
    if (Object.keys(p).length > 0) dev.props = p;
    this.devices.push(dev);
    this.budget--;
    return id;
  }

  /** Function numbers for a slot: 0 plus k-1 distinct others, ascending. */
  functions(/** @type {number} */ k) {
    const others = this.rng.shuffle([1, 2, 3, 4, 5, 6, 7]).slice(0, k - 1);
    return [0, ...others.sort((a, b) => a - b)];
  }

  /**
   * Props for function `fn` of a slot with `count` functions.
   * @returns {Record<string, string | number>}
   */
  mfProps(/** @type {number} */ fn, /** @type {number} */ count) {
    if (count <= 1) return {};
    // Function 0 must say multifunction=on; on the others the bit is harmless (the kernel reads
    // only function 0's), so set it now and then to make sure of that.
    if (fn === 0 || this.rng.chance(0.25)) return { multifunction: "on" };
    return {};
  }

  fillRootBus() {
    // 00.0 is the host bridge, 1f.x the ICH9 functions, 01.0 amd-iommu's; slot 01 stays free for
    // Intel too, so that --iommu changes nothing else in the topology.
    const slots = this.rng.shuffle(range(2, 0x1e));
    let unscannedDone = false;
    do {
      const slot = /** @type {number} */ (slots.pop());
      const kind = this.rng.weighted({
        rootPorts: 0.5,
        endpoint: 0.2,
        pciePciBridge: 0.08,
        pciBridge: 0.07,
        dmiBridge: 0.03,
        pxb: this.pxbBusNrs.length < 2 ? 0.06 : 0,
        unscanned: unscannedDone ? 0 : 0.02,
      });
      switch (kind) {
        case "rootPorts":
          this.rootPortSlot("pcie.0", 0, slot, true);
          break;
        case "endpoint":
          this.endpointSlot("pcie.0", slot, ROOT_BUS_ENDPOINTS, this.rng.chance(0.3) ? this.rng.int(2, 4) : 1, false);
          break;
        case "pciePciBridge":
          this.pciBridge("pcie-pci-bridge", "pcie.0", addr(slot, 0), 0);
          break;
        case "pciBridge":
          this.pciBridge("pci-bridge", "pcie.0", addr(slot, 0), 0);
          break;
        case "dmiBridge":
          this.pciBridge("i82801b11-bridge", "pcie.0", addr(slot, 0), 0);
          break;
        case "pxb":
          this.expander(slot);
          break;
        case "unscanned":
          // Functions without a function 0: QEMU creates them, no kernel ever scans them.
          unscannedDone = true;
          this.endpointSlot("pcie.0", slot, ROOT_BUS_ENDPOINTS, this.rng.int(1, 2), true);
          break;
      }
    } while (this.budget > 0 && slots.length > 0);
  }

  /**
   * One slot of root ports (1 to 4 functions); on pcie.0 some functions may be endpoints instead.
   * @param {string} bus pcie.0 or a pxb id
   * @param {number} busNr the bus number of `bus`
   * @param {number} slot
   * @param {boolean} mayMixEndpoints
   */
  rootPortSlot(bus, busNr, slot, mayMixEndpoints) {
    const count = this.rng.chance(0.35) ? this.rng.int(2, 4) : 1;
    const fns = this.functions(count);
    const mixed = count > 1 && mayMixEndpoints && this.rng.chance(0.2);
    for (const fn of fns) {
      const props = this.mfProps(fn, count);
      if (mixed && fn !== 0 && this.rng.chance(0.5)) {
        this.add("ep", this.rng.pick(ROOT_BUS_ENDPOINTS), bus, addr(slot, fn), props);
        continue;
      }
      const driver = this.rng.chance(0.15) ? "ioh3420" : "pcie-root-port";
      if (driver === "pcie-root-port") {
        if (this.rng.chance(0.35)) props["disable-acs"] = "on";
        else this.acsRootPorts.push(bdf(busNr, slot, fn));
      }
      const port = this.add(driver === "ioh3420" ? "ioh" : "rp", driver, bus, addr(slot, fn), props);
      this.fillPort(port, 0);
    }
  }

  /** What sits below a PCIe root or downstream port (device 0 only is scanned). */
  fillPort(/** @type {string} */ port, /** @type {number} */ depth) {
    if (this.budget <= 0 && this.rng.chance(0.7)) return;
    const kind = this.rng.weighted({
      empty: 0.06,
      endpoint: 0.45,
      mfEndpoint: 0.17,
      switch: depth < 3 ? 0.17 : 0,
      pciePciBridge: depth < 4 ? 0.09 : 0,
      pciBridge: depth < 4 ? 0.02 : 0,
      mixed: depth < 4 ? 0.04 : 0,
    });
    switch (kind) {
      case "empty":
        return;
      case "endpoint": {
        const pool = this.rng.chance(0.1) ? CONVENTIONAL_ENDPOINTS : PCIE_ENDPOINTS;
        this.add("ep", this.rng.pick(pool), port, undefined);
        break;
      }
      case "mfEndpoint":
        this.endpointSlot(port, 0, PCIE_ENDPOINTS, this.rng.int(2, this.rng.chance(0.15) ? 8 : 4), false);
        break;
      case "switch":
        this.switch(port, depth);
        break;
      case "pciePciBridge":
        this.pciBridge("pcie-pci-bridge", port, undefined, depth);
        break;
      case "pciBridge":
        this.pciBridge("pci-bridge", port, undefined, depth);
        break;
      case "mixed": {
        // A multifunction device whose functions are endpoints and a PCIe-to-PCI bridge.
        const count = this.rng.int(2, 3);
        const fns = this.functions(count);
        const bridgeFn = this.rng.pick(fns);
        for (const fn of fns) {
          const props = this.mfProps(fn, count);
          if (fn === bridgeFn) this.pciBridge("pcie-pci-bridge", port, addr(0, fn), depth, props);
          else this.add("ep", this.rng.pick(PCIE_ENDPOINTS), port, addr(0, fn), props);
        }
        break;
      }
    }
    if (this.rng.chance(0.03)) {
      // Linux scans only device 0 below a root/downstream port: this one stays invisible
      // (unless the kernel is booted with pci=pcie_scan_all).
      this.add("ep", this.rng.pick(PCIE_ENDPOINTS), port, addr(this.rng.int(1, 31), 0));
      this.hiddenBelowPort = true;
    }
  }

  /** x3130-upstream below `port` with 1 to 3 slots of xio3130-downstream ports. */
  switch(/** @type {string} */ port, /** @type {number} */ depth) {
    const usp = this.add("usp", "x3130-upstream", port, undefined);
    const slots = this.rng.shuffle(range(0, 31)).slice(0, this.rng.int(1, 3));
    // Low slot numbers are the common case; keep the others possible.
    for (const slot of slots.map((s) => (this.rng.chance(0.7) ? s % 4 : s)).filter(unique)) {
      const count = this.rng.chance(0.2) ? this.rng.int(2, 3) : 1;
      for (const fn of this.functions(count)) {
        const dsp = this.add("dsp", "xio3130-downstream", usp, addr(slot, fn), this.mfProps(fn, count));
        this.fillPort(dsp, depth + 1);
      }
    }
  }

  /**
   * A bridge to conventional PCI and what sits behind it.
   * @param {string} driver
   * @param {string} bus
   * @param {string | undefined} at
   * @param {number} depth
   * @param {Record<string, string | number>} [props]
   */
  pciBridge(driver, bus, at, depth, props = {}) {
    const prefix = driver === "pci-bridge" ? "pb" : driver === "pcie-pci-bridge" ? "ppb" : "dmi";
    const br = this.add(prefix, driver, bus, at, props);
    this.fillConventional(br, depth + 1);
  }

  fillConventional(/** @type {string} */ bus, /** @type {number} */ depth) {
    const slots = this.rng.shuffle(range(1, 31)).slice(0, this.rng.int(1, 3));
    for (const slot of slots) {
      if (depth < 3 && this.rng.chance(0.1)) {
        this.pciBridge("pci-bridge", bus, addr(slot, 0), depth);
      } else if (this.rng.chance(0.03)) {
        this.endpointSlot(bus, slot, CONVENTIONAL_ENDPOINTS, 1, true);
      } else {
        // A PCIe endpoint behind a PCIe-to-PCI bridge now and then (QEMU allows it).
        const pool = this.rng.chance(0.1) ? PCIE_ENDPOINTS : CONVENTIONAL_ENDPOINTS;
        this.endpointSlot(bus, slot, pool, this.rng.chance(0.3) ? this.rng.int(2, 4) : 1, false);
      }
      if (this.budget <= 0) break;
    }
  }

  /**
   * Endpoints on one slot of `bus`.
   * @param {string} bus
   * @param {number} slot
   * @param {readonly string[]} pool
   * @param {number} count
   * @param {boolean} withoutFunction0 leave function 0 out (the others are never scanned)
   */
  endpointSlot(bus, slot, pool, count, withoutFunction0) {
    const fns = withoutFunction0
      ? this.rng.shuffle([1, 2, 3, 4, 5, 6, 7]).slice(0, count).sort((a, b) => a - b)
      : this.functions(count);
    const onlyDevice = !withoutFunction0 && count === 1 && slot === 0 && !bus.startsWith("pcie.");
    for (const fn of fns) {
      const driver = this.rng.pick(pool);
      /** @type {Record<string, string | number>} */
      const props = withoutFunction0 ? {} : this.mfProps(fn, count);
      if (driver.startsWith("virtio-") && this.rng.chance(0.08)) props["disable-legacy"] = "on";
      this.add("ep", driver, bus, onlyDevice ? undefined : addr(slot, fn), props);
    }
  }

  /** A pxb-pcie expander with its own root bus and 1 or 2 slots of root ports. */
  expander(/** @type {number} */ slot) {
    const free = [0x40, 0x80, 0xc0].filter((n) => !this.pxbBusNrs.includes(n));
    const busNr = this.rng.pick(free);
    this.pxbBusNrs.push(busNr);
    const pxb = this.add("pxb", "pxb-pcie", "pcie.0", addr(slot, 0), { bus_nr: busNr });
    const slots = this.rng.shuffle(range(0, 31)).slice(0, this.rng.int(1, 2));
    for (const s of slots.map((x) => (this.rng.chance(0.6) ? x % 4 : x)).filter(unique)) {
      this.rootPortSlot(pxb, busNr, s, false);
    }
  }
}

/** @param {number} lo @param {number} hi */
function range(lo, hi) {
  const out = [];
  for (let i = lo; i <= hi; i++) out.push(i);
  return out;
}

/** @template T @param {T} v @param {number} i @param {T[]} a */
function unique(v, i, a) {
  return a.indexOf(v) === i;
}

/** "slot.fn" as QEMU's addr= takes it, slot in two hex digits. */
export function addr(/** @type {number} */ slot, /** @type {number} */ fn) {
  return `${slot.toString(16).padStart(2, "0")}.${fn}`;
}

/** @param {number} bus @param {number} slot @param {number} fn */
export function bdf(bus, slot, fn) {
  return `0000:${hex2(bus)}:${hex2(slot)}.${fn}`;
}

/** @param {number} n */
function hex2(n) {
  return n.toString(16).padStart(2, "0");
}

/**
 * Short feature tags of a topology, used in descriptions and for seed-list coverage.
 * @param {Topology} t
 * @returns {string[]}
 */
export function describeFeatures(t) {
  const tags = new Set();
  const byId = new Map(t.devices.map((d) => [d.id, d]));
  /** @type {Map<string, TopologyDevice[]>} */
  const slots = new Map();
  for (const d of t.devices) {
    const a = parseAddr(d.addr ?? "00.0");
    const key = `${d.bus}/${a ? a.slot : 0}`;
    slots.set(key, [...(slots.get(key) ?? []), d]);
  }
  for (const d of t.devices) {
    const parent = byId.get(d.bus);
    if (d.driver === "pcie-root-port") tags.add(d.props?.["disable-acs"] === "on" ? "root-port-no-acs" : "root-port-acs");
    else if (d.driver === "ioh3420") tags.add("ioh3420");
    else if (d.driver === "x3130-upstream") tags.add(parent?.driver === "xio3130-downstream" ? "nested-switch" : "switch");
    else if (d.driver === "pcie-pci-bridge") tags.add("pcie-pci-bridge");
    else if (d.driver === "pci-bridge") tags.add(parent && busKindOf(parent.driver) === "pci" ? "nested-pci-bridge" : "pci-bridge");
    else if (d.driver === "i82801b11-bridge") tags.add("dmi-pci-bridge");
    else if (d.driver === "pxb-pcie") tags.add("pxb-pcie");
    else if (d.bus === "pcie.0") tags.add("bus0-endpoint");
  }
  for (const group of slots.values()) {
    if (group.length < 2) continue;
    const kinds = new Set(group.map((d) => busKindOf(d.driver) ?? "endpoint"));
    if (kinds.size > 1) tags.add("mf-mixed");
    else if (kinds.has("port")) tags.add("mf-ports");
    else if (kinds.has("endpoint")) tags.add("mf-endpoint");
  }
  const scan = expectedBdfs(t);
  if ([...scan.values()].some((v) => v === null)) tags.add("unscanned");
  if (t.kernel_args?.includes("disable_acs_redir")) tags.add("disable-acs-redir");
  const configAcs = /(?:^|\s)pci=(?:\S*,)?config_acs=(\S*)/.exec(t.kernel_args ?? "")?.[1];
  if (configAcs !== undefined) {
    const entries = configAcs.split(";");
    const rejected = entries.some((e) => !/^[01xX]{1,7}@/.test(e));
    tags.add(rejected ? "config-acs-rejected" : "config-acs");
  }
  if (scansAllBelowPorts(t)) tags.add("pcie-scan-all");
  tags.add(t.iommu === "amd" ? "amd" : "intel");
  return [...tags];
}

// ---------------------------------------------------------------------------------------------
// Checking a topology against QEMU 7.2's rules and predicting the BDFs

/** @param {string} s */
export function parseAddr(s) {
  const m = /^([0-9a-f]{1,2})\.([0-7])$/i.exec(s);
  if (!m) return null;
  const slot = parseInt(/** @type {string} */ (m[1]), 16);
  if (slot > 31) return null;
  return { slot, fn: parseInt(/** @type {string} */ (m[2]), 10) };
}

const ID_RE = /^[A-Za-z][A-Za-z0-9_.-]*$/;

/**
 * Checks the rules QEMU 7.2 enforces (or that make a boot meaningless) and returns one message
 * per problem; an empty list means the topology can be booted.
 * @param {Topology} t
 * @returns {string[]}
 */
export function validateTopology(t) {
  /** @type {string[]} */
  const errors = [];
  if (typeof t !== "object" || t === null || !Array.isArray(t.devices)) return ["topology has no devices[] array"];
  if (typeof t.name !== "string" || !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(t.name)) {
    errors.push(`name ${JSON.stringify(t.name)} must be letters, digits, '.', '_' or '-'`);
  }
  if (t.iommu !== undefined && t.iommu !== "amd" && t.iommu !== "intel") errors.push(`iommu must be "amd" or "intel"`);
  if (t.kernel_args !== undefined && typeof t.kernel_args !== "string") errors.push("kernel_args must be a string");
  const amd = t.iommu === "amd";
  /** @type {Map<string, TopologyDevice>} */
  const seen = new Map();
  /** devfn use per bus: bus -> devfn -> device */
  /** @type {Map<string, Map<number, TopologyDevice>>} */
  const used = new Map();
  /** @type {Set<number>} */
  const busNrs = new Set();
  for (const [i, d] of t.devices.entries()) {
    const where = `devices[${i}] (${d && typeof d.id === "string" ? d.id : "?"})`;
    if (typeof d !== "object" || d === null || typeof d.id !== "string" || typeof d.driver !== "string" || typeof d.bus !== "string") {
      errors.push(`${where}: needs string id, driver and bus`);
      continue;
    }
    if (!ID_RE.test(d.id)) errors.push(`${where}: id must start with a letter and use [A-Za-z0-9_.-]`);
    if (seen.has(d.id) || d.id === "pcie.0") errors.push(`${where}: duplicate id`);
    if (!/^[a-z0-9][a-z0-9-]*$/.test(d.driver)) errors.push(`${where}: odd driver name ${JSON.stringify(d.driver)}`);
    for (const [k, v] of Object.entries(d.props ?? {})) {
      if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(k) || /[,=\s]/.test(String(v)) || (typeof v !== "string" && typeof v !== "number")) {
        errors.push(`${where}: prop ${k}=${String(v)} cannot be passed to -device`);
      }
    }
    const parent = d.bus === "pcie.0" ? null : seen.get(d.bus);
    if (d.bus !== "pcie.0" && !parent) {
      errors.push(`${where}: bus ${d.bus} is not pcie.0 nor an earlier device`);
      seen.set(d.id, d);
      continue;
    }
    const parentKind = parent ? busKindOf(parent.driver) : "root";
    const kind = busKindOf(d.driver);
    if (parentKind === null) errors.push(`${where}: ${d.bus} (${parent?.driver}) has no secondary bus`);
    if (parentKind === "switch" && !DOWNSTREAM_PORT_DRIVERS.includes(d.driver)) {
      errors.push(`${where}: only xio3130-downstream goes below ${d.bus} (x3130-upstream)`);
    }
    if (DOWNSTREAM_PORT_DRIVERS.includes(d.driver) && parentKind !== "switch") {
      errors.push(`${where}: ${d.driver} must sit below an x3130-upstream`);
    }
    if (ROOT_PORT_DRIVERS.includes(d.driver) && parentKind !== "root" && parentKind !== "expander") {
      errors.push(`${where}: ${d.driver} must sit on pcie.0 or a pxb-pcie`);
    }
    if (parentKind === "expander" && !ROOT_PORT_DRIVERS.includes(d.driver)) {
      errors.push(`${where}: this harness puts only root ports on a pxb-pcie`);
    }
    if (UPSTREAM_PORT_DRIVERS.includes(d.driver) && parentKind !== "port") {
      errors.push(`${where}: x3130-upstream must sit below a root or downstream port`);
    }
    if (kind === "expander") {
      if (d.bus !== "pcie.0") errors.push(`${where}: pxb-pcie must sit on pcie.0`);
      const nr = Number(d.props?.bus_nr);
      if (!Number.isInteger(nr) || nr < 1 || nr > 254) errors.push(`${where}: pxb-pcie needs bus_nr in 1..254`);
      else if (busNrs.has(nr)) errors.push(`${where}: bus_nr ${nr} used twice`);
      else busNrs.add(nr);
    }
    if (d.driver === "pcie-pci-bridge" && parentKind === "pci") {
      errors.push(`${where}: pcie-pci-bridge must sit on a PCI Express bus`);
    }
    if (d.props?.["disable-acs"] !== undefined && !ROOT_PORT_DRIVERS.includes(d.driver)) {
      errors.push(`${where}: disable-acs exists only on root ports`);
    }
    if (d.driver === "nvme" && d.props?.serial === undefined) errors.push(`${where}: nvme needs props.serial`);

    // Address.
    let devfn;
    if (d.addr === undefined) {
      devfn = firstFreeDevfn(used.get(d.bus), parent);
      if (devfn === null) errors.push(`${where}: no free slot left on ${d.bus}`);
    } else {
      const a = parseAddr(d.addr);
      if (!a) errors.push(`${where}: addr ${JSON.stringify(d.addr)} is not slot.function in hex`);
      else devfn = a.slot * 8 + a.fn;
    }
    if (devfn !== undefined && devfn !== null) {
      const slot = devfn >> 3;
      if (parentKind === "root" && (slot === 0 || slot === 0x1f)) errors.push(`${where}: slot ${hex2(slot)} of pcie.0 belongs to q35's own devices`);
      if (parentKind === "root" && amd && slot === 1) errors.push(`${where}: slot 01 of pcie.0 is taken by amd-iommu`);
      if (parent && SHPC_BRIDGE_DRIVERS.includes(parent.driver) && slot === 0) {
        errors.push(`${where}: slot 0 below ${parent.driver} is reserved by its hot-plug controller`);
      }
      const onBus = used.get(d.bus) ?? new Map();
      used.set(d.bus, onBus);
      const other = onBus.get(devfn);
      if (other) errors.push(`${where}: ${d.bus} ${addr(slot, devfn & 7)} already holds ${other.id}`);
      onBus.set(devfn, d);
    }
    seen.set(d.id, d);
  }
  // Multifunction rule (QEMU pci_init_multifunction): function 0 must say multifunction=on when any
  // other function of its slot exists.
  for (const [bus, onBus] of used) {
    for (const [devfn, d] of onBus) {
      if ((devfn & 7) !== 0) continue;
      const others = [...onBus.keys()].filter((x) => x >> 3 === devfn >> 3 && x !== devfn);
      if (others.length > 0 && d.props?.multifunction !== "on") {
        errors.push(`${d.id}: function 0 of ${bus} slot ${hex2(devfn >> 3)} needs multifunction=on (other functions exist)`);
      }
    }
  }
  if (errors.length === 0) {
    // Bus numbers: each host bridge's hierarchy must fit below the next one's bus_nr.
    const numbering = numberBuses(t);
    for (const problem of numbering.problems) errors.push(problem);
  }
  const kargs = t.kernel_args ?? "";
  if (/(^|\s)(console|intel_iommu|amd_iommu|iommu|panic|rdinit|init)=/.test(kargs)) {
    errors.push("kernel_args must not override console=, *iommu=, panic=, init= or rdinit=");
  }
  return errors;
}

/**
 * QEMU's automatic address: the first slot whose function 0 is free.
 * @param {Map<number, TopologyDevice> | undefined} onBus
 * @param {TopologyDevice | null | undefined} parent
 * @returns {number | null}
 */
function firstFreeDevfn(onBus, parent) {
  const start = parent && SHPC_BRIDGE_DRIVERS.includes(parent.driver) ? 8 : 0;
  for (let devfn = start; devfn < 256; devfn += 8) if (!onBus?.has(devfn)) return devfn;
  return null;
}

/**
 * Firmware bus numbering (SeaBIOS, kept by Linux): depth-first over each root bus in devfn
 * order, pcie.0 first and then each pxb-pcie root bus at its bus_nr. SeaBIOS skips a slot whose
 * function 0 is missing and looks past function 0 only when it is multifunction, but unlike
 * Linux it does look at every device number below a PCIe port.
 * @param {Topology} t
 */
function numberBuses(t) {
  const tree = buildTree(t);
  /** @type {Map<string, number>} bus id -> number */
  const busNr = new Map();
  /** @type {string[]} */
  const problems = [];
  const roots = [{ id: "pcie.0", nr: 0 }];
  for (const d of t.devices) if (d.driver === "pxb-pcie") roots.push({ id: d.id, nr: Number(d.props?.bus_nr) });
  roots.sort((a, b) => a.nr - b.nr);
  let last = -1;
  for (const [i, root] of roots.entries()) {
    if (root.nr <= last) {
      problems.push(`bus numbers of ${roots[i - 1]?.id} run up to ${hex2(last)}, past bus_nr ${hex2(root.nr)} of ${root.id}: use a larger bus_nr`);
    }
    let counter = root.nr;
    busNr.set(root.id, root.nr);
    /** @param {string} bus */
    const walk = (bus) => {
      for (const child of firmwareVisible(tree.get(bus) ?? [])) {
        if (busKindOf(child.dev.driver) === null || busKindOf(child.dev.driver) === "expander") continue;
        counter++;
        busNr.set(child.dev.id, counter);
        walk(child.dev.id);
      }
    };
    walk(root.id);
    last = counter;
    if (counter > 255) problems.push(`hierarchy of ${root.id} needs bus numbers past ff`);
  }
  return { busNr, problems };
}

/**
 * @typedef {{dev: TopologyDevice, devfn: number}} Placed
 * @param {Topology} t
 * @returns {Map<string, Placed[]>} bus id -> devices on it, in devfn order
 */
function buildTree(t) {
  /** @type {Map<string, Placed[]>} */
  const tree = new Map();
  for (const d of t.devices) {
    const onBus = tree.get(d.bus) ?? [];
    tree.set(d.bus, onBus);
    let devfn;
    if (d.addr !== undefined) {
      const a = /** @type {{slot: number, fn: number}} */ (parseAddr(d.addr));
      devfn = a.slot * 8 + a.fn;
    } else {
      const parent = t.devices.find((p) => p.id === d.bus);
      devfn = /** @type {number} */ (firstFreeDevfn(new Map(onBus.map((p) => [p.devfn, p.dev])), parent));
    }
    onBus.push({ dev: d, devfn });
  }
  for (const list of tree.values()) list.sort((a, b) => a.devfn - b.devfn);
  return tree;
}

/** Functions that firmware and Linux find on a bus: no function 0, no slot; fn 0 single -> only it. */
function firmwareVisible(/** @type {Placed[]} */ list) {
  /** @type {Placed[]} */
  const out = [];
  for (const p of list) {
    const f0 = list.find((q) => q.devfn === (p.devfn & ~7));
    if (!f0) continue;
    if (p !== f0 && f0.dev.props?.multifunction !== "on") continue;
    out.push(p);
  }
  return out;
}

/** Whether the kernel arguments hold pci=pcie_scan_all (possibly among other pci= options). */
export function scansAllBelowPorts(/** @type {Topology} */ t) {
  return /(^|\s)pci=(\S*,)?pcie_scan_all(,|\s|$)/.test(t.kernel_args ?? "");
}

/**
 * The BDF Linux gives each device of the topology, or null when Linux never scans it
 * (no function 0, or a device number other than 0 below a root/downstream port unless
 * pci=pcie_scan_all).
 * @param {Topology} t
 * @returns {Map<string, string | null>}
 */
export function expectedBdfs(t) {
  const tree = buildTree(t);
  const { busNr } = numberBuses(t);
  const byId = new Map(t.devices.map((d) => [d.id, d]));
  const scanAll = scansAllBelowPorts(t);
  /** @type {Map<string, string | null>} */
  const out = new Map();
  for (const d of t.devices) out.set(d.id, null);
  /** @param {string} bus */
  const walk = (bus) => {
    const nr = busNr.get(bus);
    if (nr === undefined) return;
    const parent = byId.get(bus);
    const onlyDevice0 = parent !== undefined && busKindOf(parent.driver) === "port" && !scanAll;
    for (const p of firmwareVisible(tree.get(bus) ?? [])) {
      if (onlyDevice0 && p.devfn >> 3 !== 0) continue;
      out.set(p.dev.id, bdf(nr, p.devfn >> 3, p.devfn & 7));
      if (busKindOf(p.dev.driver) !== null) walk(p.dev.id);
    }
  };
  walk("pcie.0");
  return out;
}

/**
 * Every BDF the guest should list: q35's own functions, amd-iommu, and the scanned devices.
 * @param {Topology} t
 * @returns {string[]} sorted
 */
export function expectedGuestBdfs(t) {
  const all = new Set(Q35_BUILTIN_BDFS);
  if (t.iommu === "amd") all.add(AMD_IOMMU_BDF);
  for (const v of expectedBdfs(t).values()) if (v !== null) all.add(v);
  return [...all].sort();
}

// ---------------------------------------------------------------------------------------------
// QEMU command line

export const BASE_CMDLINE_INTEL = "console=ttyS0 intel_iommu=on iommu=nopt quiet panic=-1";
export const BASE_CMDLINE_AMD = "console=ttyS0 amd_iommu=on iommu=nopt quiet panic=-1";

/** The guest kernel command line, exactly as the recorded cases have it in /proc/cmdline. */
export function kernelCmdline(/** @type {Topology} */ t) {
  const base = t.iommu === "amd" ? BASE_CMDLINE_AMD : BASE_CMDLINE_INTEL;
  const extra = (t.kernel_args ?? "").trim();
  return extra === "" ? base : `${base} ${extra}`;
}

/**
 * -device arguments for the topology, with what the JSON leaves implicit: unique chassis/slot
 * numbers for PCIe ports and chassis_nr for pci-bridge (one counter in creation order, as the
 * recorded cases were made), no option ROM on NICs.
 * @param {Topology} t
 * @returns {string[]} one string per -device value
 */
export function deviceArgs(t) {
  let chassis = 0;
  return t.devices.map((d) => {
    const parts = [d.driver, `id=${d.id}`, `bus=${d.bus}`];
    if (d.addr !== undefined) parts.push(`addr=${d.addr}`);
    const props = { ...(d.props ?? {}) };
    if (ROOT_PORT_DRIVERS.includes(d.driver) || DOWNSTREAM_PORT_DRIVERS.includes(d.driver)) {
      chassis++;
      if (props.chassis === undefined) props.chassis = chassis;
      if (props.slot === undefined) props.slot = chassis;
    } else if (d.driver === "pci-bridge") {
      chassis++;
      if (props.chassis_nr === undefined) props.chassis_nr = chassis;
    }
    if (NIC_DRIVERS.includes(d.driver) && props.romfile === undefined) props.romfile = "";
    for (const [k, v] of Object.entries(props)) parts.push(`${k}=${v}`);
    return parts.join(",");
  });
}

/**
 * @typedef {object} QemuOptions
 * @property {string} kernel path of vmlinuz
 * @property {string} initrd path of the initramfs
 * @property {string} consoleLog file that receives ttyS0, the console (boot messages, capture)
 * @property {number} [memoryMb] default 512
 */

/**
 * Arguments for qemu-system-x86_64 (without the program name).
 * @param {Topology} t
 * @param {QemuOptions} o
 * @returns {string[]}
 */
export function qemuArgs(t, o) {
  const args = [
    "-M", "q35",
    "-accel", "tcg",
    "-m", String(o.memoryMb ?? 512),
    "-smp", "1",
    "-nodefaults",
    "-no-user-config",
    "-display", "none",
    "-no-reboot",
    "-kernel", o.kernel,
    "-initrd", o.initrd,
    "-append", kernelCmdline(t),
    "-serial", `file:${o.consoleLog}`,
    // The IOMMU comes first: amd-iommu then takes 00:01.0, and both see every later device.
    "-device", t.iommu === "amd" ? "amd-iommu" : "intel-iommu,intremap=off",
  ];
  for (const dev of deviceArgs(t)) args.push("-device", dev);
  return args;
}
