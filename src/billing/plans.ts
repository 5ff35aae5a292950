/**
 * Plans and their per-organization quotas: the one source every quota check and usage report reads.
 * `null` means unlimited (reported as -1 in API responses). Storage in bytes. Prices in USD cents;
 * Enterprise is "contact us" in billing (the seed's landing-page price is not a Stripe price).
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
  quotas: PlanQuotas;
};

const GB = 1024 ** 3;

export const plans: Record<PlanId, Plan> = {
  free: {
    id: "free",
    name: "Free",
    monthlyPriceCents: 0,
    annualMonthlyPriceCents: 0,
    quotas: { rows: 500_000, profiles: 5_000, modelRuns: 5, genaiOps: 5, automations: 2, storageBytes: 0.5 * GB, teamSeats: 1 },
  },
  starter: {
    id: "starter",
    name: "Starter",
    monthlyPriceCents: 2900,
    annualMonthlyPriceCents: 2400,
    quotas: { rows: 10_000_000, profiles: 50_000, modelRuns: 50, genaiOps: 50, automations: 10, storageBytes: 5 * GB, teamSeats: 5 },
  },
  pro: {
    id: "pro",
    name: "Pro",
    monthlyPriceCents: 9900,
    annualMonthlyPriceCents: 7900,
    quotas: { rows: 100_000_000, profiles: 500_000, modelRuns: 500, genaiOps: 500, automations: 50, storageBytes: 50 * GB, teamSeats: 25 },
  },
  enterprise: {
    id: "enterprise",
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
