import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { expectedPurchases, fitBgNbd, groupBgNbdData, logLikelihood, probabilityAlive } from "../../src/engine/bgnbd";
import { digamma, lgamma } from "../../src/engine/special";
import { bgnbdTimeline, epochDay } from "../../src/engine/timeline";

/** The paper's calibration data: CDNOW sample, 39 weeks (1997-01-01 to 1997-09-30), same-day purchases once. */
function cdnowCalibration() {
  const days = new Map<string, Set<number>>();
  for (const line of env.TEST_CDNOW_SAMPLE.split("\n")) {
    const [customer, , date] = line.trim().split(/\s+/);
    if (!customer || !date) continue;
    const day = epochDay(Date.UTC(+date.slice(0, 4), +date.slice(4, 6) - 1, +date.slice(6, 8)));
    (days.get(customer) ?? days.set(customer, new Set()).get(customer)!).add(day);
  }
  const end = epochDay(Date.UTC(1997, 8, 30));
  const x: number[] = [];
  const tx: number[] = [];
  const T: number[] = [];
  for (const set of days.values()) {
    const calibration = [...set].filter((d) => d <= end).sort((a, b) => a - b);
    const timeline = bgnbdTimeline(calibration[0]!, calibration.at(-1)!, calibration.length, end);
    x.push(timeline.x);
    tx.push(timeline.tx);
    T.push(timeline.T);
  }
  return { x, tx, T };
}

const within = (actual: number, expected: number, relative: number) => Math.abs(actual - expected) / Math.abs(expected) <= relative;

describe("BG/NBD", () => {
  it("recovers the published CDNOW parameters within 1%", () => {
    const { x, tx, T } = cdnowCalibration();
    expect(x).toHaveLength(2357);
    expect(x.reduce((s, v) => s + v, 0)).toBe(2457);
    const fit = fitBgNbd(groupBgNbdData(x, tx, T))!;
    expect(fit.converged).toBe(true);
    const published = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };
    for (const key of ["r", "alpha", "a", "b"] as const) {
      expect(within(fit.params[key], published[key], 0.01), `${key} = ${fit.params[key]}`).toBe(true);
    }
    expect(fit.logLikelihood).toBeCloseTo(-9582.4, 0);
  });

  it("has an analytic gradient that matches finite differences", () => {
    const { x, tx, T } = cdnowCalibration();
    const data = groupBgNbdData(x.slice(0, 300), tx.slice(0, 300), T.slice(0, 300));
    const params = { r: 0.4, alpha: 3, a: 0.6, b: 2.2 };
    const gradient = new Float64Array(4);
    logLikelihood(params, data, gradient);
    const keys = ["r", "alpha", "a", "b"] as const;
    keys.forEach((key, i) => {
      const h = 1e-6;
      const up = { ...params, [key]: params[key] * Math.exp(h) };
      const down = { ...params, [key]: params[key] * Math.exp(-h) };
      const numeric = (logLikelihood(up, data) - logLikelihood(down, data)) / (2 * h);
      expect(gradient[i]).toBeCloseTo(numeric, 4);
    });
  });

  it("gives P(alive) and expected purchases that behave as the model says", () => {
    const p = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };
    expect(probabilityAlive(p, 0, 0, 30)).toBe(1);
    // The same purchases, longer silence: less likely alive.
    expect(probabilityAlive(p, 2, 10, 30)).toBeGreaterThan(probabilityAlive(p, 2, 10, 60));
    expect(probabilityAlive(p, 2, 29, 30)).toBeGreaterThan(probabilityAlive(p, 2, 5, 30));
    // FHL 2005: a customer with x=2, t_x=30.43, T=38.86 expects about 1.23 purchases in the next 39 weeks.
    expect(expectedPurchases(p, 39, 2, 30.43, 38.86)).toBeCloseTo(1.23, 1);
  });

  it("declines to fit data that cannot identify the model", () => {
    expect(fitBgNbd(groupBgNbdData([0, 0, 0], [0, 0, 0], [5, 6, 7]))).toBeNull();
    expect(fitBgNbd(groupBgNbdData([], [], []))).toBeNull();
    expect(fitBgNbd(groupBgNbdData(Array(20).fill(0), Array(20).fill(0), Array(20).fill(10)))).toBeNull();
  });

  it("computes ln Γ and ψ accurately", () => {
    expect(lgamma(1)).toBeCloseTo(0, 12);
    expect(lgamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 12);
    expect(lgamma(101)).toBeCloseTo(363.73937555556347, 9);
    expect(digamma(1)).toBeCloseTo(-0.5772156649015329, 12);
    // ψ(1/4) = −γ − π/2 − 3 ln 2
    expect(digamma(0.25)).toBeCloseTo(-0.5772156649015329 - Math.PI / 2 - 3 * Math.LN2, 11);
  });
});
