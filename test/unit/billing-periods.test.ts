import { describe, expect, it } from "vitest";
import { entitledPlan, usageWindow } from "../../src/billing/entitlement";
import { planOfLookupKey, planThatLifts, priceLookupKey } from "../../src/billing/plans";
import { forecast } from "../../src/services/usage";

const at = (iso: string) => new Date(iso);

describe("usageWindow", () => {
  it("is the calendar month without a subscription, keyed as the counters always were", () => {
    expect(usageWindow(null, at("2026-02-14T10:00:00Z"))).toEqual({ start: at("2026-02-01T00:00:00Z"), end: at("2026-03-01T00:00:00Z"), key: "2026-02" });
  });

  it("steps monthly from the subscription's anchor, on a short month's last day, also for annual periods", () => {
    const anchor = at("2026-01-31T09:30:00Z");
    expect(usageWindow(anchor, at("2026-02-10T00:00:00Z"))).toMatchObject({ start: anchor, end: at("2026-02-28T09:30:00Z") });
    expect(usageWindow(anchor, at("2026-03-01T00:00:00Z"))).toMatchObject({ start: at("2026-02-28T09:30:00Z"), end: at("2026-03-31T09:30:00Z") });
    expect(usageWindow(anchor, at("2026-11-30T09:30:00Z")).start).toEqual(at("2026-11-30T09:30:00Z"));
    expect(usageWindow(anchor, at("2026-11-30T09:29:59Z")).start).toEqual(at("2026-10-31T09:30:00Z"));
  });
});

describe("entitlement", () => {
  const now = at("2026-06-10T00:00:00Z");
  it("grants the plan while trialing, active, and 7 days of past_due; free otherwise", () => {
    expect(entitledPlan({ plan: "pro", status: "trialing", pastDueSince: null }, now)).toBe("pro");
    expect(entitledPlan({ plan: "pro", status: "past_due", pastDueSince: at("2026-06-03T00:00:01Z") }, now)).toBe("pro");
    expect(entitledPlan({ plan: "pro", status: "past_due", pastDueSince: at("2026-06-03T00:00:00Z") }, now)).toBe("free");
    for (const status of ["canceled", "unpaid", "incomplete", "incomplete_expired", "paused"]) expect(entitledPlan({ plan: "pro", status, pastDueSince: null }, now)).toBe("free");
  });
});

describe("plans", () => {
  it("finds plans by lookup key and the plan that lifts a quota", () => {
    expect(priceLookupKey("starter", "monthly")).toBe("segmento_starter_monthly");
    expect(planOfLookupKey("segmento_pro_annual")).toEqual({ plan: "pro", interval: "annual" });
    expect(planOfLookupKey("segmento_gold_monthly")).toBeNull();
    expect(planOfLookupKey("other_pro_monthly")).toBeNull();
    expect(planThatLifts("teamSeats", 6, "free")).toBe("pro");
    expect(planThatLifts("storageBytes", 600 * 1024 ** 3, "pro")).toBeNull();
  });
});

describe("forecast", () => {
  const now = at("2026-06-10T00:00:00Z");
  const end = at("2026-07-01T00:00:00Z");
  it("extrapolates the last 7 days within the period, null otherwise", () => {
    expect(forecast(50, 100, 70, now, end)).toBe(at("2026-06-15T00:00:00Z").toISOString());
    expect(forecast(50, 100, 7, now, end)).toBeNull();
    expect(forecast(50, 100, 0, now, end)).toBeNull();
    expect(forecast(50, null, 70, now, end)).toBeNull();
    expect(forecast(100, 100, 0, now, end)).toBe(now.toISOString());
  });
});
