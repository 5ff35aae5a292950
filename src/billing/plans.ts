/**
 * Plans and their per-organization quotas: the one source every quota check and usage report reads.
 * `null` means unlimited (reported as -1 in API responses). Storage in bytes. Prices in USD cents;
 * Enterprise is "contact us" in billing (the seed's landing-page price is not a Stripe price), so it is
 * not self-serve: checkout answers 409 `contact_sales` for it.
 */
export const planIds = ["free", "starter", "pro", "enterprise"] as const;
export type PlanId = (typeof planIds)[number];

export type PlanQuotas = {
  rows: number | null;
  profiles: number | null;
  modelRuns: number | null;
  genaiOps: number | null;
  automations: number | null;
  storageBytes: number | null;
  teamSeats: number | null;
};

export type Plan = {
  id: PlanId;
  name: string;
  monthlyPriceCents: number | null;
  annualMonthlyPriceCents: number | null;
  /** bought through Stripe Checkout; otherwise granted by sales (Enterprise) or the default (Free) */
  selfServe: boolean;
  quotas: PlanQuotas;
};

const GB = 1024 ** 3;

export const plans: Record<PlanId, Plan> = {
  free: {
    id: "free",
    selfServe: false,
    name: "Free",
    monthlyPriceCents: 0,
    annualMonthlyPriceCents: 0,
    quotas: { rows: 500_000, profiles: 5_000, modelRuns: 5, genaiOps: 5, automations: 2, storageBytes: 0.5 * GB, teamSeats: 1 },
  },
  starter: {
    id: "starter",
    selfServe: true,
    name: "Starter",
    monthlyPriceCents: 2900,
    annualMonthlyPriceCents: 2400,
    quotas: { rows: 10_000_000, profiles: 50_000, modelRuns: 50, genaiOps: 50, automations: 10, storageBytes: 5 * GB, teamSeats: 5 },
  },
  pro: {
    id: "pro",
    selfServe: true,
    name: "Pro",
    monthlyPriceCents: 9900,
    annualMonthlyPriceCents: 7900,
    quotas: { rows: 100_000_000, profiles: 500_000, modelRuns: 500, genaiOps: 500, automations: 50, storageBytes: 50 * GB, teamSeats: 25 },
  },
  enterprise: {
    id: "enterprise",
    selfServe: false,
    name: "Enterprise",
    monthlyPriceCents: null,
    annualMonthlyPriceCents: null,
    quotas: { rows: null, profiles: null, modelRuns: null, genaiOps: null, automations: null, storageBytes: 500 * GB, teamSeats: null },
  },
};

/** A quota as the API reports it: -1 for unlimited. */
export function reportedLimit(limit: number | null): number {
  return limit === null ? -1 : limit;
}

/** Whether `used + adding` stays within the limit. */
export function withinQuota(limit: number | null, used: number, adding = 1): boolean {
  return limit === null || used + adding <= limit;
}

export const billingIntervals = ["monthly", "annual"] as const;
export type BillingInterval = (typeof billingIntervals)[number];

/** Plans from the smallest up: an organization entitled to two plans gets the larger. */
export const planRank = (plan: PlanId) => planIds.indexOf(plan);
export const largerPlan = (a: PlanId, b: PlanId): PlanId => (planRank(a) >= planRank(b) ? a : b);

/** Stripe prices are found by lookup key, so no price id lives in config: `segmento_<plan>_<interval>`. */
export const priceLookupKey = (plan: PlanId, interval: BillingInterval) => `segmento_${plan}_${interval}`;

export function planOfLookupKey(lookupKey: string | null | undefined): { plan: PlanId; interval: BillingInterval } | null {
  const match = /^segmento_([a-z]+)_([a-z]+)$/.exec(lookupKey ?? "");
  if (!match) return null;
  const [, plan, interval] = match;
  if (!(planIds as readonly string[]).includes(plan!) || !(billingIntervals as readonly string[]).includes(interval!)) return null;
  return { plan: plan as PlanId, interval: interval as BillingInterval };
}

/** The smallest plan above `current` whose limit for a quota holds `needed`; null when none does. */
export function planThatLifts(quota: keyof PlanQuotas, needed: number, current: PlanId): PlanId | null {
  return planIds.find((id) => planRank(id) > planRank(current) && withinQuota(plans[id].quotas[quota], 0, needed)) ?? null;
}
