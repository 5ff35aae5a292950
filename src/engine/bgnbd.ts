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

/** Customers with identical (x, t_x, T) collapse into one weighted row: the likelihood is a sum over rows. */
export type BgNbdData = { x: Float64Array; tx: Float64Array; T: Float64Array; weight: Float64Array };

export function groupBgNbdData(x: ArrayLike<number>, tx: ArrayLike<number>, T: ArrayLike<number>): BgNbdData {
  const groups = new Map<string, number>();
  const keys: Array<[number, number, number]> = [];
  const weights: number[] = [];
  for (let i = 0; i < x.length; i++) {
    const key = `${x[i]}|${tx[i]}|${T[i]}`;
    const index = groups.get(key);
    if (index === undefined) {
      groups.set(key, keys.length);
      keys.push([x[i]!, tx[i]!, T[i]!]);
      weights.push(1);
    } else weights[index]! += 1;
  }
  return {
    x: Float64Array.from(keys, (k) => k[0]),
    tx: Float64Array.from(keys, (k) => k[1]),
    T: Float64Array.from(keys, (k) => k[2]),
    weight: Float64Array.from(weights),
  };
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
    const rx = r + x;
    const lnA1 = lgamma(rx) - lgR + r * lnAlpha;
    const lnA2 = lgAB + lgamma(b + x) - lgB - lgamma(a + b + x);
    const lnAlphaT = Math.log(alpha + T);
    const lnA3 = -rx * lnAlphaT;
    const lnAlphaTx = Math.log(alpha + tx);
    const lnA4 = x > 0 ? lnA - Math.log(b + x - 1) - rx * lnAlphaTx : -Infinity;
    const mix = logAddExp(lnA3, lnA4);
    total += w * (lnA1 + lnA2 + mix);
    if (gradient) {
      const w3 = Math.exp(lnA3 - mix);
      const w4 = x > 0 ? Math.exp(lnA4 - mix) : 0;
      const psiRX = digamma(rx);
      const psiABX = digamma(a + b + x);
      dr += w * (psiRX - psiR + lnAlpha - w3 * lnAlphaT - w4 * lnAlphaTx);
      dalpha += w * (r / alpha - w3 * rx / (alpha + T) - w4 * rx / (alpha + tx));
      da += w * (psiAB - psiABX + (x > 0 ? w4 / a : 0));
      db += w * (psiAB + digamma(b + x) - psiB - psiABX - (x > 0 ? w4 / (b + x - 1) : 0));
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
