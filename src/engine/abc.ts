export type AbcCategory = "A" | "B" | "C";

/**
 * Where a category ends in the ranking (customers by monetary value, highest first, ties in customer
 * order): the first customer past it holds `value`, `above` customers have more, and it sits at
 * `position`. Customers worth more than `value`, and the first `position − above` of those worth
 * exactly `value`, are still inside.
 */
export type AbcBoundary = { value: number; above: number; position: number };
/** The ends of A and B, null where a category takes every customer with positive revenue. */
export type AbcBoundaries = { a: AbcBoundary | null; b: AbcBoundary | null };

/**
 * ABC by cumulative revenue share: customers ranked by monetary value, A while the revenue before them
 * is under 80% of the total (so the customer crossing 80% is still A), B under 95%, C the rest.
 * Customers with no positive revenue are C (so if nobody has any, everyone is).
 *
 * Found from the values alone, as two boundaries, so that customers can be categorised later a page
 * at a time (`abcCategory`) without the whole ranking in memory. The revenue before each rank is
 * summed in rank order, as a sort of the customers would; equal values add up alike in any order.
 */
export function abcBoundaries(monetary: ArrayLike<number>, thresholds = { a: 0.8, b: 0.95 }): AbcBoundaries {
  let total = 0;
  for (let i = 0; i < monetary.length; i++) total += Math.max(0, monetary[i]!);
  const ends: AbcBoundaries = { a: null, b: null };
  if (total <= 0) return ends;
  const sorted = Float64Array.from(monetary).sort();
  let before = 0;
  let runStart = 0; // rank of the first customer with the current value
  for (let rank = 0; rank < sorted.length; rank++) {
    const value = sorted[sorted.length - 1 - rank]!;
    if (value <= 0) break;
    if (rank > 0 && value !== sorted[sorted.length - rank]) runStart = rank;
    const share = before / total;
    if (!ends.a && share >= thresholds.a) ends.a = { value, above: runStart, position: rank };
    if (!ends.b && share >= thresholds.b) ends.b = { value, above: runStart, position: rank };
    before += value;
  }
  return ends;
}

/**
 * The category of a customer worth `value`, the `tieRank`-th (from 0, in customer order) of those
 * worth exactly that much.
 */
export function abcCategory(ends: AbcBoundaries, value: number, tieRank: number): AbcCategory {
  if (!(value > 0)) return "C";
  const inside = (end: AbcBoundary | null) => end === null || value > end.value || (value === end.value && end.above + tieRank < end.position);
  return inside(ends.a) ? "A" : inside(ends.b) ? "B" : "C";
}

/**
 * Categorises customers in customer order, a page at a time: it counts the customers seen at each
 * boundary's value, which is all a tie needs. `ties` (from `progress`) lets a later run resume.
 */
export class AbcCategorizer {
  private readonly ties: { a: number; b: number };
  constructor(
    private readonly ends: AbcBoundaries,
    progress: { a: number; b: number } = { a: 0, b: 0 },
  ) {
    this.ties = { ...progress };
  }

  next(value: number): AbcCategory {
    const { a, b } = this.ends;
    // Only a customer worth exactly a boundary's value needs its rank among equals.
    const tieRank = a && value === a.value ? this.ties.a : b && value === b.value ? this.ties.b : 0;
    const category = abcCategory(this.ends, value, tieRank);
    if (a && value === a.value) this.ties.a++;
    if (b && value === b.value) this.ties.b++;
    return category;
  }

  get progress() {
    return { ...this.ties };
  }
}

/** Every customer's category at once (the values in customer order). */
export function abcCategories(monetary: ArrayLike<number>, thresholds = { a: 0.8, b: 0.95 }): AbcCategory[] {
  const categorizer = new AbcCategorizer(abcBoundaries(monetary, thresholds));
  return Array.from({ length: monetary.length }, (_, i) => categorizer.next(monetary[i]!));
}
