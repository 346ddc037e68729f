import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import Stripe from 'stripe';
import { DEMO_SEEDED_MESSAGE, migrateDatabase, seedDatabase } from '../boot/database.js';
import { loadConfigOrExit } from '../config/boot.js';
import { resolveDatabase } from '../database/resolve-database.js';
import { ensureDemoProducts } from '../modules/billing/demo-products.js';
import { stripeOptions } from '../modules/billing/stripe.client.js';

/**
 * `npm run db:seed`: migrates, then seeds the demo users and team into an empty database
 * (never in production, never over existing data). With STRIPE_SECRET_KEY set, also creates
 * the demo products in Stripe (Base $8/month, Plus $12/month, 7-day trial) unless they exist.
 */
Logger.overrideLogger(['log', 'warn', 'error', 'fatal']);
const config = loadConfigOrExit();
if (config.nodeEnv === 'production') {
  process.stderr.write('db:seed refuses to seed demo data with NODE_ENV=production\n');
  process.exit(1);
}
const { directUrl, embedded } = await resolveDatabase(config);
try {
  await migrateDatabase(directUrl, config.jobs.schema, { pooler: config.databaseDirectPooler });
  const seeded = await seedDatabase(directUrl, undefined, {
    pooler: config.databaseDirectPooler,
  });
  process.stdout.write(
    seeded ? `${DEMO_SEEDED_MESSAGE}\n` : 'database already has users: demo data not seeded\n',
  );
  if (config.stripe.secretKey === undefined) {
    process.stdout.write('STRIPE_SECRET_KEY is not set: demo Stripe products not created\n');
  } else {
    const stripe = new Stripe(config.stripe.secretKey, stripeOptions(config.stripe.apiUrl));
    const { created } = await ensureDemoProducts(stripe);
    process.stdout.write(
      created.length > 0
        ? `created in Stripe: ${created.join(', ')}\n`
        : 'demo Stripe products already exist\n',
    );
  }
} finally {
  await embedded?.stop();
}
