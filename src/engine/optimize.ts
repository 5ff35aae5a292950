/**
 * BFGS minimisation with a backtracking (Armijo) line search, for smooth objectives of a few
 * parameters with analytic gradients. Steps that leave the objective's domain (NaN or ±∞) are
 * shortened, so callers may return Infinity outside it.
 */
export type Objective = (x: Float64Array, gradient: Float64Array) => number;

export type MinimizeResult = { x: Float64Array; value: number; iterations: number; converged: boolean; gradientNorm: number };

export function minimizeBfgs(objective: Objective, start: ArrayLike<number>, { maxIterations = 500, gradientTolerance = 1e-7 } = {}): MinimizeResult {
  const n = start.length;
  let x: Float64Array = Float64Array.from(start);
  let g: Float64Array = new Float64Array(n);
  let value = objective(x, g);
  if (!Number.isFinite(value)) throw new Error("the starting point is outside the objective's domain");
  // Inverse Hessian approximation, starting from the identity.
  let H: Float64Array = identity(n);
  const direction = new Float64Array(n);
  const trial = new Float64Array(n);
  const trialGradient = new Float64Array(n);
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    const gradientNorm = norm(g);
    if (gradientNorm < gradientTolerance * Math.max(1, Math.abs(value))) return { x, value, iterations, converged: true, gradientNorm };
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let j = 0; j < n; j++) sum -= H[i * n + j]! * g[j]!;
      direction[i] = sum;
    }
    let slope = dot(direction, g);
    if (slope >= 0) {
      // Not a descent direction (the approximation went bad): restart from steepest descent.
      H = identity(n);
      for (let i = 0; i < n; i++) direction[i] = -g[i]!;
      slope = dot(direction, g);
    }
    let step = 1;
    let trialValue = Infinity;
    for (let tries = 0; tries < 60; tries++) {
      for (let i = 0; i < n; i++) trial[i] = x[i]! + step * direction[i]!;
      trialValue = objective(trial, trialGradient);
      if (Number.isFinite(trialValue) && trialValue <= value + 1e-4 * step * slope) break;
      step *= 0.5;
    }
    if (!Number.isFinite(trialValue) || trialValue > value) return { x, value, iterations, converged: false, gradientNorm };
    const s = new Float64Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = trial[i]! - x[i]!;
      y[i] = trialGradient[i]! - g[i]!;
    }
    const converged = Math.abs(value - trialValue) < 1e-14 * Math.max(1, Math.abs(value));
    x = Float64Array.from(trial);
    g = Float64Array.from(trialGradient);
    value = trialValue;
    if (converged) return { x, value, iterations: iterations + 1, converged: true, gradientNorm: norm(g) };
    const sy = dot(s, y);
    if (sy > 1e-12) H = bfgsUpdate(H, s, y, sy, n);
  }
  return { x, value, iterations, converged: false, gradientNorm: norm(g) };
}

function bfgsUpdate(H: Float64Array, s: Float64Array, y: Float64Array, sy: number, n: number): Float64Array {
  const rho = 1 / sy;
  const Hy = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let j = 0; j < n; j++) sum += H[i * n + j]! * y[j]!;
    Hy[i] = sum;
  }
  const yHy = dot(y, Hy);
  const next = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      next[i * n + j] = H[i * n + j]! - rho * (Hy[i]! * s[j]! + s[i]! * Hy[j]!) + (rho * rho * yHy + rho) * s[i]! * s[j]!;
    }
  }
  return next;
}

const identity = (n: number) => {
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) m[i * n + i] = 1;
  return m;
};
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
};
const norm = (a: ArrayLike<number>) => Math.sqrt(dot(a, a));
