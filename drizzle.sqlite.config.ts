import { defineConfig } from 'drizzle-kit';

/** The embedded default. `npm run db:generate` runs this config and drizzle.postgres.config.ts. */
export default defineConfig({
  dialect: 'sqlite',
  schema: './server/db/schema.ts',
  out: './drizzle/sqlite',
});
