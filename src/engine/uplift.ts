/**
 * Uplift by the two-model approach: one logistic regression of the outcome (purchased after the
 * campaign) on customer features for treated customers, one for the holdout; a customer's uplift is
 * the difference of the two predicted probabilities.
 */
export type LogisticModel = { weights: Float64Array; intercept: number };

/** L2-regularised logistic regression fitted by Newton's method (features should be standardized). */
export function fitLogistic(features: Float64Array, d: number, outcomes: ArrayLike<number>, { l2 = 1, iterations = 50 } = {}): LogisticModel {
  const n = outcomes.length;
  const p = d + 1;
  const beta = new Float64Array(p);
  const gradient = new Float64Array(p);
  const hessian = new Float64Array(p * p);
  const row = new Float64Array(p);
  for (let iter = 0; iter < iterations; iter++) {
    gradient.fill(0);
    hessian.fill(0);
    for (let i = 0; i < n; i++) {
      row[0] = 1;
      for (let j = 0; j < d; j++) row[j + 1] = features[i * d + j]!;
      let z = 0;
      for (let j = 0; j < p; j++) z += beta[j]! * row[j]!;
      const prob = 1 / (1 + Math.exp(-z));
      const residual = outcomes[i]! - prob;
      const w = Math.max(prob * (1 - prob), 1e-10);
      for (let a = 0; a < p; a++) {
        gradient[a]! += residual * row[a]!;
        for (let b = 0; b < p; b++) hessian[a * p + b]! += w * row[a]! * row[b]!;
      }
    }
    // The intercept is not penalised.
    for (let a = 1; a < p; a++) {
      gradient[a]! -= l2 * beta[a]!;
      hessian[a * p + a]! += l2;
    }
    const step = solve(hessian, gradient, p);
    let change = 0;
    for (let j = 0; j < p; j++) {
      beta[j]! += step[j]!;
      change = Math.max(change, Math.abs(step[j]!));
    }
    if (change < 1e-8) break;
  }
  return { intercept: beta[0]!, weights: beta.slice(1) };
}

export function predictLogistic(model: LogisticModel, features: Float64Array, i: number): number {
  const d = model.weights.length;
  let z = model.intercept;
  for (let j = 0; j < d; j++) z += model.weights[j]! * features[i * d + j]!;
  return 1 / (1 + Math.exp(-z));
}

export type UpliftObservation = { features: Float64Array; treated: boolean; converted: boolean };

/**
 * Uplift scores for `population` (n × d) from campaign observations. Null when either group has fewer
 * than `minGroup` customers: too little evidence to score anyone.
 */
export function upliftScores(
  observations: { features: Float64Array; treated: ArrayLike<number>; converted: ArrayLike<number> },
  population: Float64Array,
  d: number,
  { minGroup = 20 } = {},
): Float64Array | null {
  const n = observations.treated.length;
  const pick = (flag: number) => {
    const rows: number[] = [];
    for (let i = 0; i < n; i++) if (observations.treated[i] === flag) rows.push(i);
    const features = new Float64Array(rows.length * d);
    rows.forEach((r, k) => features.set(observations.features.subarray(r * d, r * d + d), k * d));
    return { features, outcomes: Float64Array.from(rows, (r) => observations.converted[r]!) };
  };
  const treated = pick(1);
  const control = pick(0);
  if (treated.outcomes.length < minGroup || control.outcomes.length < minGroup) return null;
  const treatedModel = fitLogistic(treated.features, d, treated.outcomes);
  const controlModel = fitLogistic(control.features, d, control.outcomes);
  const count = population.length / d;
  const scores = new Float64Array(count);
  for (let i = 0; i < count; i++) scores[i] = predictLogistic(treatedModel, population, i) - predictLogistic(controlModel, population, i);
  return scores;
}

/** Solves A x = b (A symmetric positive definite, small) by Gaussian elimination with partial pivoting. */
function solve(A: Float64Array, b: Float64Array, p: number): Float64Array {
  const m = Float64Array.from(A);
  const x = Float64Array.from(b);
  for (let col = 0; col < p; col++) {
    let pivot = col;
    for (let r = col + 1; r < p; r++) if (Math.abs(m[r * p + col]!) > Math.abs(m[pivot * p + col]!)) pivot = r;
    if (Math.abs(m[pivot * p + col]!) < 1e-14) continue;
    if (pivot !== col) {
      for (let c = 0; c < p; c++) [m[col * p + c], m[pivot * p + c]] = [m[pivot * p + c]!, m[col * p + c]!];
      [x[col], x[pivot]] = [x[pivot]!, x[col]!];
    }
    for (let r = col + 1; r < p; r++) {
      const factor = m[r * p + col]! / m[col * p + col]!;
      for (let c = col; c < p; c++) m[r * p + c]! -= factor * m[col * p + c]!;
      x[r]! -= factor * x[col]!;
    }
  }
  for (let r = p - 1; r >= 0; r--) {
    let sum = x[r]!;
    for (let c = r + 1; c < p; c++) sum -= m[r * p + c]! * x[c]!;
    x[r] = Math.abs(m[r * p + r]!) < 1e-14 ? 0 : sum / m[r * p + r]!;
  }
  return x;
}
