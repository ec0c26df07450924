import pg from 'pg';
import { copyDatabase } from '../../scripts/db-copy/copy.ts';

export type BenchBackend = 'sqlite' | 'postgres';

/**
 * Where the atlas-chat server children keep their data: `--database sqlite` (the default) runs them
 * on the seeded SQLite file itself; `--database postgres` copies that file into a new PostgreSQL
 * database per server (npm run db:copy's code, so ids, seqs and sessions match) on the server at
 * `--database-url`, and drops every such database at the end of the run.
 */
export class BenchDatabases {
  private readonly created: string[] = [];

  constructor(
    readonly backend: BenchBackend,
    /** An admin URL of the PostgreSQL server; its database is used to create and drop the others. */
    readonly adminUrl: string,
  ) {}

  /** The server child's environment for a database holding the seed at `seedPath`. */
  async serverEnv(seedPath: string): Promise<Record<string, string>> {
    if (this.backend === 'sqlite') return { DATABASE_PATH: seedPath };
    const name = `atlas_bench_${process.pid}_${this.created.length + 1}`;
    await this.admin((client) => client.query(`create database "${name}"`));
    this.created.push(name);
    const url = new URL(this.adminUrl);
    url.pathname = `/${name}`;
    await copyDatabase({ from: seedPath, to: url.toString() });
    return { DATABASE_URL: url.toString() };
  }

  async dropAll(): Promise<void> {
    for (const name of this.created.splice(0)) {
      await this.admin((client) => client.query(`drop database if exists "${name}" with (force)`));
    }
  }

  private async admin(work: (client: pg.Client) => Promise<unknown>): Promise<void> {
    const client = new pg.Client({ connectionString: this.adminUrl });
    await client.connect();
    try {
      await work(client);
    } finally {
      await client.end();
    }
  }
}
