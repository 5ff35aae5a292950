import type { PlanId } from "./plans";

/** How long a past_due subscription keeps its plan's quotas before the free ones apply. */
export const PAST_DUE_GRACE_MS = 7 * 24 * 3600 * 1000;

export type SubscriptionEntitlement = { plan: PlanId; status: string; pastDueSince: Date | null };

/**
 * The plan whose quotas a subscription grants now: its own while trialing or active, and for 7 days
 * of past_due; free once canceled, unpaid, incomplete or past the grace.
 */
export function entitledPlan(subscription: SubscriptionEntitlement, now: Date): PlanId {
  if (subscription.status === "trialing" || subscription.status === "active") return subscription.plan;
  if (subscription.status === "past_due") {
    const since = subscription.pastDueSince?.getTime() ?? now.getTime();
    return now.getTime() - since < PAST_DUE_GRACE_MS ? subscription.plan : "free";
  }
  return "free";
}

/**
 * A subscription that holds the organization: Stripe bills it or will again. Not one that ended, nor one
 * whose first payment never went through (incomplete), so a stuck checkout does not block a new one.
 */
export const isLiveStatus = (status: string) => status !== "canceled" && status !== "incomplete" && status !== "incomplete_expired";

export type UsageWindow = { start: Date; end: Date; key: string };

/**
 * The window monthly quotas (model runs, GenAI ops) are counted in. On a paid plan, the month of the
 * subscription's cycle that holds `now`, anchored on its period start (an annual plan's quotas are still
 * monthly; days past a short month's end fall on its last day, as Stripe bills); otherwise the calendar
 * month (UTC), keyed `YYYY-MM` as the counters always were.
 */
export function usageWindow(anchor: Date | null, now: Date): UsageWindow {
  if (!anchor) {
    const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
    const end = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
    return { start, end, key: start.toISOString().slice(0, 7) };
  }
  let months = (now.getUTCFullYear() - anchor.getUTCFullYear()) * 12 + (now.getUTCMonth() - anchor.getUTCMonth());
  while (months > 0 && addMonths(anchor, months) > now) months--;
  while (addMonths(anchor, months + 1) <= now) months++;
  const start = addMonths(anchor, months);
  return { start, end: addMonths(anchor, months + 1), key: start.toISOString() };
}

function addMonths(anchor: Date, months: number): Date {
  const year = anchor.getUTCFullYear();
  const month = anchor.getUTCMonth() + months;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return new Date(
    Date.UTC(year, month, Math.min(anchor.getUTCDate(), lastDay), anchor.getUTCHours(), anchor.getUTCMinutes(), anchor.getUTCSeconds()),
  );
}
