/**
 * Every SQL statement of the fleet store, for PGlite and PostgreSQL alike:
 * the versioned schema migrations first, then the statements the store
 * and the questions run. Nothing else in the code base writes SQL.
 */

/** a schema version: its number and the statements that take the previous version to it */
export interface Migration {
  readonly version: number;
  readonly statements: readonly string[];
}

export const VERSION_TABLE = `CREATE TABLE IF NOT EXISTS fleet_schema_version (
  version integer PRIMARY KEY,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;
/** one migration at a time, across every process sharing the database */
export const MIGRATION_LOCK = "SELECT pg_advisory_xact_lock(727172001)";
export const CURRENT_VERSION = "SELECT coalesce(max(version), 0)::int AS version FROM fleet_schema_version";
export const RECORD_VERSION = "INSERT INTO fleet_schema_version (version) VALUES ($1)";

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    statements: [
      // the tree of each distinct machine, without the host-only files (DMI, host name, osrelease, cmdline)
      `CREATE TABLE fleet_machines (
        hash text PRIMARY KEY,
        tree bytea NOT NULL
      )`,
      // every capture ever ingested, by the hash of its tree: re-ingesting one is a no-op
      `CREATE TABLE fleet_captures (
        hash text PRIMARY KEY,
        host text NOT NULL,
        file text NOT NULL,
        ingested_at timestamptz NOT NULL DEFAULT now()
      )`,
      // one row per host: its latest capture's identity and prediction summary
      `CREATE TABLE fleet_hosts (
        name text PRIMARY KEY,
        capture_hash text NOT NULL REFERENCES fleet_captures (hash),
        machine_hash text NOT NULL REFERENCES fleet_machines (hash),
        hostname text,
        sys_vendor text,
        product_name text,
        board_vendor text,
        board_name text,
        bios_vendor text,
        bios_version text,
        bios_date text,
        osrelease text,
        cmdline text,
        kernel text NOT NULL,
        iommu text NOT NULL,
        group_count integer NOT NULL,
        largest_group integer NOT NULL,
        acs_override text,
        partition text NOT NULL,
        gpu_count integer NOT NULL,
        gpu_alone integer NOT NULL,
        nic_count integer NOT NULL,
        nic_alone integer NOT NULL,
        nvme_count integer NOT NULL,
        nvme_alone integer NOT NULL
      )`,
      `CREATE TABLE fleet_functions (
        host text NOT NULL REFERENCES fleet_hosts (name) ON DELETE CASCADE,
        bdf text NOT NULL,
        vendor integer NOT NULL,
        device integer NOT NULL,
        class integer NOT NULL,
        bridge boolean NOT NULL,
        grp integer,
        alone boolean NOT NULL,
        reason text,
        PRIMARY KEY (host, bdf)
      )`,
      "CREATE INDEX fleet_functions_id ON fleet_functions (vendor, device)",
      "CREATE INDEX fleet_functions_class ON fleet_functions (class)",
      `CREATE TABLE fleet_risks (
        host text NOT NULL REFERENCES fleet_hosts (name) ON DELETE CASCADE,
        kind text NOT NULL,
        bdf text,
        text text NOT NULL
      )`,
      "CREATE INDEX fleet_risks_host ON fleet_risks (host)",
    ],
  },
];

export const KNOWN_CAPTURES = "SELECT hash FROM fleet_captures";
export const KNOWN_MACHINES = "SELECT hash FROM fleet_machines";

export const INSERT_MACHINES = `INSERT INTO fleet_machines (hash, tree)
  SELECT * FROM unnest($1::text[], $2::bytea[]) ON CONFLICT (hash) DO NOTHING`;
export const INSERT_CAPTURES = `INSERT INTO fleet_captures (hash, host, file)
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ON CONFLICT (hash) DO NOTHING`;
/** a newer capture of a known host replaces its rows (functions and risks go by cascade) */
export const EXISTING_HOSTS = "SELECT name FROM fleet_hosts WHERE name = ANY($1::text[])";
export const DELETE_HOSTS = "DELETE FROM fleet_hosts WHERE name = ANY($1::text[])";

/** fleet_hosts columns in insert order; INSERT_HOSTS takes one array per column */
export const HOST_COLUMNS = [
  ["name", "text"],
  ["capture_hash", "text"],
  ["machine_hash", "text"],
  ["hostname", "text"],
  ["sys_vendor", "text"],
  ["product_name", "text"],
  ["board_vendor", "text"],
  ["board_name", "text"],
  ["bios_vendor", "text"],
  ["bios_version", "text"],
  ["bios_date", "text"],
  ["osrelease", "text"],
  ["cmdline", "text"],
  ["kernel", "text"],
  ["iommu", "text"],
  ["group_count", "int"],
  ["largest_group", "int"],
  ["acs_override", "text"],
  ["partition", "text"],
  ["gpu_count", "int"],
  ["gpu_alone", "int"],
  ["nic_count", "int"],
  ["nic_alone", "int"],
  ["nvme_count", "int"],
  ["nvme_alone", "int"],
] as const;
export const INSERT_HOSTS = `INSERT INTO fleet_hosts (${HOST_COLUMNS.map(([c]) => c).join(", ")})
  SELECT * FROM unnest(${HOST_COLUMNS.map(([, t], i) => `$${i + 1}::${t}[]`).join(", ")})`;
export const INSERT_FUNCTIONS = `INSERT INTO fleet_functions (host, bdf, vendor, device, class, bridge, grp, alone, reason)
  SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::int[], $5::int[], $6::bool[], $7::int[], $8::bool[], $9::text[])`;
export const INSERT_RISKS = `INSERT INTO fleet_risks (host, kind, bdf, text)
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])`;

/*
 * Questions that return thousands of rows get them as one JSON text, an
 * array of arrays in the order asked: per row and field, PGlite's driver
 * costs several times what the server spends on the query, JSON.parse next
 * to nothing.
 */
/** JSON text of [name, hostname, sys_vendor, product_name, board_vendor, board_name, bios_vendor, bios_version, bios_date, osrelease, kernel, iommu, group_count, largest_group, acs_override] */
export const SELECT_HOSTS = `SELECT coalesce(json_agg(json_build_array(name, hostname, sys_vendor, product_name, board_vendor, board_name, bios_vendor, bios_version, bios_date,
    osrelease, kernel, iommu, group_count, largest_group, acs_override) ORDER BY name), '[]')::text AS rows
  FROM fleet_hosts`;

const FUNCTION_FIELDS = "f.host, f.bdf, f.vendor, f.device, f.class, f.grp, f.alone, f.reason";
/** functions matching a vendor:device pair ($1, $2): JSON text of [host, bdf, vendor, device, class, grp, alone, reason] */
export const SELECT_FUNCTIONS_BY_ID = `SELECT coalesce(json_agg(json_build_array(${FUNCTION_FIELDS}) ORDER BY f.host, f.bdf), '[]')::text AS rows
  FROM fleet_functions f WHERE f.vendor = $1 AND f.device = $2`;
/** functions whose class code is in [$1, $2) (a class prefix as a range, so the class index serves it): as SELECT_FUNCTIONS_BY_ID */
export const SELECT_FUNCTIONS_BY_CLASS = `SELECT coalesce(json_agg(json_build_array(${FUNCTION_FIELDS}) ORDER BY f.host, f.bdf), '[]')::text AS rows
  FROM fleet_functions f WHERE f.class >= $1 AND f.class < $2`;
export const COUNT_HOSTS = "SELECT count(*)::int AS n FROM fleet_hosts";

/** what a what-if needs per host: which machine, booted how, grouped how */
export const SELECT_HOST_BOOTS = `SELECT coalesce(json_agg(json_build_array(name, machine_hash, osrelease, cmdline, partition) ORDER BY name), '[]')::text AS rows
  FROM fleet_hosts`;
/** the trees as base64 text: PGlite hands bytea back as hex parsed in JavaScript, ten times slower than Buffer's base64 */
export const SELECT_MACHINE_TREES = "SELECT hash, encode(tree, 'base64') AS tree FROM fleet_machines WHERE hash = ANY($1::text[])";

export const SELECT_RISKS = "SELECT host, kind, bdf, text FROM fleet_risks ORDER BY host, kind, bdf NULLS FIRST, text";

/** per board model × BIOS version × kernel: hosts and how their devices isolate */
export const SELECT_BOARDS = `SELECT
    coalesce(board_vendor, sys_vendor) AS vendor,
    coalesce(board_name, product_name) AS board,
    bios_version,
    kernel,
    count(*)::int AS hosts,
    count(DISTINCT partition)::int AS layouts,
    string_agg(DISTINCT iommu, ',' ORDER BY iommu) AS iommu,
    count(acs_override)::int AS override_hosts,
    min(group_count)::int AS min_groups,
    max(group_count)::int AS max_groups,
    sum(gpu_count)::int AS gpu_count, sum(gpu_alone)::int AS gpu_alone,
    sum(nic_count)::int AS nic_count, sum(nic_alone)::int AS nic_alone,
    sum(nvme_count)::int AS nvme_count, sum(nvme_alone)::int AS nvme_alone
  FROM fleet_hosts
  GROUP BY 1, 2, 3, 4
  ORDER BY 1 NULLS LAST, 2 NULLS LAST, 3 NULLS LAST, 4`;
