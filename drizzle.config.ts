import { defineConfig } from 'drizzle-kit';

// Only `drizzle-kit generate` uses this file; it diffs the schema against the committed
// snapshots and needs no database. Migrations are applied by the app (see src/database/migrate.ts).
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/database/schema.ts',
  out: './drizzle',
  casing: undefined,
  strict: true,
  verbose: true,
});
