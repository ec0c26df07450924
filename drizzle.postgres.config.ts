import { defineConfig } from 'drizzle-kit';

/** Selected by DATABASE_URL=postgres://…; applied at start-up under an advisory lock. */
export default defineConfig({
  dialect: 'postgresql',
  schema: './server/db/schema-pg.ts',
  out: './drizzle/postgres',
});
