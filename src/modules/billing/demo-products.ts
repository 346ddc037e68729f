import type Stripe from 'stripe';

/** The demo catalogue `npm run db:seed` creates in Stripe when keys are configured. */
export const DEMO_PLANS = [
  { key: 'base', name: 'Base', amount: 800, trialDays: 7 },
  { key: 'plus', name: 'Plus', amount: 1200, trialDays: 7 },
] as const;

const lookupKey = (key: string): string => `nest-saas-${key}-monthly`;

/**
 * Creates the demo products (Base $8/month, Plus $12/month, 7-day trial) unless they exist.
 * Idempotent: prices are found by `lookup_key` (nest-saas-<plan>-monthly), products by
 * `metadata.nest_saas_plan`, so a rerun (or a run interrupted halfway) creates only what is
 * missing. Trial days go into the price's `metadata.trial_days` (price-level trials are legacy).
 * Returns what it created.
 */
export async function ensureDemoProducts(stripe: Stripe): Promise<{ created: string[] }> {
  const created: string[] = [];
  const existing = await stripe.prices.list({
    lookup_keys: DEMO_PLANS.map((p) => lookupKey(p.key)),
    active: true,
    limit: 100,
  });
  const products: Stripe.Product[] = [];
  for await (const product of stripe.products.list({ limit: 100 })) products.push(product);

  for (const plan of DEMO_PLANS) {
    if (existing.data.some((price) => price.lookup_key === lookupKey(plan.key))) continue;
    let product = products.find((p) => p.metadata.nest_saas_plan === plan.key);
    if (!product) {
      product = await stripe.products.create(
        { name: plan.name, metadata: { nest_saas_plan: plan.key } },
        { idempotencyKey: `nest-saas:demo-product:${plan.key}` },
      );
      created.push(`product ${product.id} (${plan.name})`);
    }
    const price = await stripe.prices.create({
      product: product.id,
      unit_amount: plan.amount,
      currency: 'usd',
      recurring: { interval: 'month' },
      lookup_key: lookupKey(plan.key),
      metadata: { trial_days: String(plan.trialDays) },
    });
    await stripe.products.update(product.id, { default_price: price.id, active: true });
    created.push(`price ${price.id} (${plan.name} ${plan.amount / 100} usd/month)`);
  }
  return { created };
}
