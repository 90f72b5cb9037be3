/**
 * The fleet database: embedded PGlite in a folder by default, or a
 * PostgreSQL server (`postgres://…`). Both run the same SQL (sql.ts)
 * through this one small interface; migrations are applied on open.
 */
import { mkdir } from "node:fs/promises";
import { homedir } from "node:os";
import path from "node:path";
import { InputError } from "../errors.js";
import { errnoCode, systemErrorText } from "../sysfs/errors.js";
import { CURRENT_VERSION, MIGRATION_LOCK, MIGRATIONS, RECORD_VERSION, VERSION_TABLE } from "./sql.js";

export interface Db {
  readonly kind: "pglite" | "postgres";
  /** the folder, or the URL without its password */
  readonly where: string;
  query<R>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /** runs `fn` in one transaction: all of it or nothing */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface Queryable {
  query<R>(sql: string, params?: readonly unknown[]): Promise<R[]>;
}

/** `$XDG_DATA_HOME/iommu-atlas/fleet`, else `~/.local/share/iommu-atlas/fleet` */
export function defaultDbDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_DATA_HOME && path.isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : path.join(homedir(), ".local", "share");
  return path.join(base, "iommu-atlas", "fleet");
}

export const isPostgresUrl = (db: string): boolean => /^postgres(ql)?:\/\//i.test(db);

/** the URL without its password, for messages */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return url.replace(/:[^:@/]*@/, ":***@");
  }
}

/**
 * Opens the fleet database `db` (a folder or a postgres:// URL; default
 * defaultDbDir()) and brings its schema up to date.
 *
 * @throws InputError, one line, when it cannot be opened
 */
export async function openDb(db: string | undefined): Promise<Db> {
  const target = db ?? defaultDbDir();
  const opened = isPostgresUrl(target) ? await openPostgres(target) : await openPglite(target);
  try {
    await migrate(opened);
  } catch (err) {
    await opened.close().catch(() => undefined);
    throw new InputError(`${opened.where}: cannot bring the fleet schema up to date: ${firstLine(err)}`);
  }
  return opened;
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split("\n")[0]!;
}

async function openPglite(dir: string): Promise<Db> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw new InputError(`${dir}: cannot create the fleet database folder: ${systemErrorText(err)}; pass --db with a writable folder or a postgres:// URL`);
  }
  const { PGlite } = await import("@electric-sql/pglite");
  let pg: InstanceType<typeof PGlite>;
  try {
    pg = await PGlite.create({ dataDir: dir, relaxedDurability: true });
  } catch (err) {
    const why = errnoCode(err) ? systemErrorText(err) : firstLine(err);
    throw new InputError(`${dir}: cannot open the fleet database: ${why}; pass --db with an empty folder or one 'fleet ingest' made`);
  }
  const query = async <R>(q: { query: (s: string, p?: unknown[]) => Promise<{ rows: unknown[] }> }, sql: string, params?: readonly unknown[]): Promise<R[]> =>
    (await q.query(sql, params ? [...params] : undefined)).rows as R[];
  return {
    kind: "pglite",
    where: dir,
    query: (sql, params) => query(pg, sql, params),
    transaction: (fn) => pg.transaction((tx) => fn({ query: (sql, params) => query(tx, sql, params) })),
    close: () => pg.close(),
  };
}

async function openPostgres(url: string): Promise<Db> {
  const { default: pg } = await import("pg");
  const where = redactUrl(url);
  const client = new pg.Client({ connectionString: url });
  // a dropped connection between queries surfaces on the next query; keep the process alive meanwhile
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query("SET client_min_messages = warning");
  } catch (err) {
    await client.end().catch(() => undefined);
    throw new InputError(`${where}: cannot connect to PostgreSQL: ${firstLine(err)}; check the URL, the server and its pg_hba.conf`);
  }
  const query = async <R>(sql: string, params?: readonly unknown[]): Promise<R[]> => (await client.query(sql, params ? [...params] : undefined)).rows as R[];
  // one connection: transactions run one at a time
  let chain: Promise<unknown> = Promise.resolve();
  return {
    kind: "postgres",
    where,
    query,
    transaction: <T>(fn: (tx: Queryable) => Promise<T>): Promise<T> => {
      const run = async (): Promise<T> => {
        await client.query("BEGIN");
        try {
          const out = await fn({ query });
          await client.query("COMMIT");
          return out;
        } catch (err) {
          await client.query("ROLLBACK").catch(() => undefined);
          throw err;
        }
      };
      const next = chain.then(run, run);
      chain = next.catch(() => undefined);
      return next;
    },
    close: () => client.end(),
  };
}

/** applies every migration newer than the database's version, each in its own transaction */
export async function migrate(db: Db): Promise<number> {
  await db.query(VERSION_TABLE);
  let version = 0;
  for (const m of MIGRATIONS) {
    version = await db.transaction(async (tx) => {
      await tx.query(MIGRATION_LOCK);
      const [row] = await tx.query<{ version: number }>(CURRENT_VERSION);
      const current = row?.version ?? 0;
      if (current >= m.version) return current;
      for (const s of m.statements) await tx.query(s);
      await tx.query(RECORD_VERSION, [m.version]);
      return m.version;
    });
  }
  return version;
}
