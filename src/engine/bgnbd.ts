import { minimizeBfgs } from "./optimize";
import { digamma, lgamma, logAddExp } from "./special";

/**
 * The BG/NBD model (Fader, Hardie & Lee 2005): purchases follow a Poisson process whose rate is gamma
 * distributed across customers (r, alpha); after each purchase a customer drops out with a probability
 * that is beta distributed (a, b). Fitted by maximum likelihood, in log-parameters so they stay positive.
 *
 * Per customer: x = repeat purchases (distinct purchase days after the first), t_x = time of the last
 * purchase, T = time observed, both measured from the first purchase (weeks in this product).
 */
export type BgNbdParams = { r: number; alpha: number; a: number; b: number };
export type BgNbdFit = { params: BgNbdParams; logLikelihood: number; iterations: number; converged: boolean; customers: number };

/**
 * Customers with identical (x, t_x, T) collapse into one weighted row: the likelihood is a sum over
 * rows. Rows keep the order of their first customer, so the sum is added up in the same order however
 * the data arrived. The terms that depend on x alone (ln Γ, ψ) are computed once per distinct x
 * (`xIndex` into `distinctX`): a project has a few dozen x but can have 300,000 rows.
 */
export type BgNbdData = { x: Float64Array; tx: Float64Array; T: Float64Array; weight: Float64Array; xIndex: Int32Array; distinctX: Float64Array };

/**
 * Groups customers by (x, t_x, T) in an open-addressing hash table on typed arrays: about 40 bytes a
 * customer at most, where a Map keyed by strings took 400 (124 MB for 500,000 customers).
 */
export function groupBgNbdData(x: ArrayLike<number>, tx: ArrayLike<number>, T: ArrayLike<number>): BgNbdData {
  const n = x.length;
  let capacity = 16;
  while (capacity < 2 * n) capacity *= 2;
  const mask = capacity - 1;
  const slots = new Int32Array(capacity).fill(-1);
  const gx = new Float64Array(n);
  const gtx = new Float64Array(n);
  const gT = new Float64Array(n);
  const weight = new Float64Array(n);
  let groups = 0;
  for (let i = 0; i < n; i++) {
    // + 0 turns −0 into 0, so both land in one group (as equal numbers should).
    const [a, b, c] = [x[i]! + 0, tx[i]! + 0, T[i]! + 0];
    let slot = hashTriple(a, b, c) & mask;
    for (;;) {
      const g = slots[slot]!;
      if (g === -1) {
        slots[slot] = groups;
        [gx[groups], gtx[groups], gT[groups], weight[groups]] = [a, b, c, 1];
        groups++;
        break;
      }
      if (gx[g] === a && gtx[g] === b && gT[g] === c) {
        weight[g]! += 1;
        break;
      }
      slot = (slot + 1) & mask;
    }
  }
  const distinct = new Map<number, number>();
  const xIndex = new Int32Array(groups);
  for (let g = 0; g < groups; g++) {
    let index = distinct.get(gx[g]!);
    if (index === undefined) distinct.set(gx[g]!, (index = distinct.size));
    xIndex[g] = index;
  }
  return { x: gx.slice(0, groups), tx: gtx.slice(0, groups), T: gT.slice(0, groups), weight: weight.slice(0, groups), xIndex, distinctX: Float64Array.from(distinct.keys()) };
}

const hashScratch = new Float64Array(1);
const hashWords = new Int32Array(hashScratch.buffer);
/** A 32-bit hash of three doubles' bits (FNV-style mixing). */
function hashTriple(a: number, b: number, c: number): number {
  let h = 0x811c9dc5;
  for (const v of [a, b, c]) {
    hashScratch[0] = v;
    h = Math.imul(h ^ hashWords[0]!, 0x01000193);
    h = Math.imul(h ^ hashWords[1]!, 0x01000193);
  }
  return (h ^ (h >>> 15)) >>> 0;
}

/** Total log-likelihood, and its gradient with respect to (ln r, ln alpha, ln a, ln b). */
export function logLikelihood(params: BgNbdParams, data: BgNbdData, gradient?: Float64Array): number {
  const { r, alpha, a, b } = params;
  const lgR = lgamma(r);
  const lgAB = lgamma(a + b);
  const lgB = lgamma(b);
  const psiR = digamma(r);
  const psiAB = digamma(a + b);
  const psiB = digamma(b);
  const lnAlpha = Math.log(alpha);
  const lnA = Math.log(a);
  // Per distinct x: the parts of each row's terms that depend on x alone, each the very value a row
  // would compute (the same operations in the same order), so the sums are unchanged by the caching.
  const m = data.distinctX.length;
  const lnA12 = new Float64Array(m); // lnA1 + lnA2
  const lnA4x = new Float64Array(m); // ln a − ln(b + x − 1)
  const dr0 = new Float64Array(m);
  const da0 = new Float64Array(m);
  const db0 = new Float64Array(m);
  for (let j = 0; j < m; j++) {
    const x = data.distinctX[j]!;
    const rx = r + x;
    const lnA1 = lgamma(rx) - lgR + r * lnAlpha;
    const lnA2 = lgAB + lgamma(b + x) - lgB - lgamma(a + b + x);
    lnA12[j] = lnA1 + lnA2;
    lnA4x[j] = lnA - Math.log(b + x - 1);
    if (gradient) {
      const psiABX = digamma(a + b + x);
      dr0[j] = digamma(rx) - psiR + lnAlpha;
      da0[j] = psiAB - psiABX;
      db0[j] = psiAB + digamma(b + x) - psiB - psiABX;
    }
  }
  let total = 0;
  let dr = 0;
  let dalpha = 0;
  let da = 0;
  let db = 0;
  for (let i = 0; i < data.x.length; i++) {
    const x = data.x[i]!;
    const tx = data.tx[i]!;
    const T = data.T[i]!;
    const w = data.weight[i]!;
    const j = data.xIndex[i]!;
    const rx = r + x;
    const lnAlphaT = Math.log(alpha + T);
    const lnA3 = -rx * lnAlphaT;
    const lnAlphaTx = Math.log(alpha + tx);
    const lnA4 = x > 0 ? lnA4x[j]! - rx * lnAlphaTx : -Infinity;
    const mix = logAddExp(lnA3, lnA4);
    total += w * (lnA12[j]! + mix);
    if (gradient) {
      const w3 = Math.exp(lnA3 - mix);
      const w4 = x > 0 ? Math.exp(lnA4 - mix) : 0;
      dr += w * (dr0[j]! - w3 * lnAlphaT - w4 * lnAlphaTx);
      dalpha += w * (r / alpha - w3 * rx / (alpha + T) - w4 * rx / (alpha + tx));
      da += w * (da0[j]! + (x > 0 ? w4 / a : 0));
      db += w * (db0[j]! - (x > 0 ? w4 / (b + x - 1) : 0));
    }
  }
  if (gradient) {
    gradient[0] = dr * r;
    gradient[1] = dalpha * alpha;
    gradient[2] = da * a;
    gradient[3] = db * b;
  }
  return total;
}

const fromLog = (v: ArrayLike<number>): BgNbdParams => ({ r: Math.exp(v[0]!), alpha: Math.exp(v[1]!), a: Math.exp(v[2]!), b: Math.exp(v[3]!) });

/**
 * Maximum-likelihood fit. Several starting points guard against a poor local optimum; the best
 * converged one wins. Returns null when the data cannot identify the model (no customer with a repeat
 * purchase, or too few customers): the caller reports that instead of inventing scores.
 */
export function fitBgNbd(data: BgNbdData, { minCustomers = 10 } = {}): BgNbdFit | null {
  let customers = 0;
  let repeaters = 0;
  for (let i = 0; i < data.x.length; i++) {
    customers += data.weight[i]!;
    if (data.x[i]! > 0) repeaters += data.weight[i]!;
  }
  if (customers < minCustomers || repeaters === 0) return null;
  // Scale each term by 1/customers so the tolerances mean the same for any project size.
  const objective = (v: Float64Array, gradient: Float64Array) => {
    const params = fromLog(v);
    if (![params.r, params.alpha, params.a, params.b].every((p) => Number.isFinite(p) && p > 1e-8 && p < 1e8)) return Infinity;
    const value = -logLikelihood(params, data, gradient) / customers;
    for (let i = 0; i < 4; i++) gradient[i] = -gradient[i]! / customers;
    return Number.isFinite(value) ? value : Infinity;
  };
  let best: ReturnType<typeof minimizeBfgs> | null = null;
  for (const start of [
    [0, 0, 0, 0],
    [Math.log(0.5), Math.log(5), Math.log(0.5), Math.log(2)],
    [Math.log(2), Math.log(20), Math.log(1), Math.log(5)],
  ]) {
    const result = minimizeBfgs(objective, start, { maxIterations: 1000, gradientTolerance: 1e-9 });
    if (!best || result.value < best.value - 1e-12) best = result;
  }
  const params = fromLog(best!.x);
  return { params, logLikelihood: logLikelihood(params, data), iterations: best!.iterations, converged: best!.converged, customers };
}

/** P(alive | x, t_x, T): 1 for a customer with no repeat purchase, as the BG/NBD model has it. */
export function probabilityAlive(params: BgNbdParams, x: number, tx: number, T: number): number {
  if (x <= 0) return 1;
  const { r, alpha, a, b } = params;
  const logRatio = Math.log(a / (b + x - 1)) + (r + x) * (Math.log(alpha + T) - Math.log(alpha + tx));
  return 1 / (1 + Math.exp(logRatio));
}

/**
 * Expected purchases in the next t periods for a customer (FHL 2005, eq. 10), via the Gauss
 * hypergeometric function. Used for "predicted purchases" on the profile.
 */
export function expectedPurchases(params: BgNbdParams, t: number, x: number, tx: number, T: number): number {
  const { r, alpha, a, b } = params;
  const z = t / (alpha + T + t);
  const hyper = hyp2f1(r + x, b + x, a + b + x - 1, z);
  const term = ((a + b + x - 1) / (a - 1)) * (1 - Math.pow((alpha + T) / (alpha + T + t), r + x) * hyper);
  const alive = x > 0 ? (a / (b + x - 1)) * Math.pow((alpha + T) / (alpha + tx), r + x) : 0;
  return term / (1 + alive);
}

/** ₂F₁(a, b; c; z) for |z| < 1 by its power series. */
function hyp2f1(a: number, b: number, c: number, z: number): number {
  let term = 1;
  let sum = 1;
  for (let n = 0; n < 2000; n++) {
    term *= ((a + n) * (b + n)) / ((c + n) * (n + 1)) * z;
    sum += term;
    if (Math.abs(term) < 1e-15 * Math.abs(sum)) break;
  }
  return sum;
}
