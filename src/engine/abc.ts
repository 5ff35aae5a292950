export type AbcCategory = "A" | "B" | "C";

/**
 * ABC by cumulative revenue share: customers sorted by monetary value, A while the revenue before them
 * is under 80% of the total (so the customer crossing 80% is still A), B under 95%, C the rest.
 * Customers with no positive revenue are C; if nobody has any, everyone is.
 */
export function abcCategories(monetary: ArrayLike<number>, thresholds = { a: 0.8, b: 0.95 }): AbcCategory[] {
  const n = monetary.length;
  const categories: AbcCategory[] = new Array(n).fill("C");
  let total = 0;
  for (let i = 0; i < n; i++) total += Math.max(0, monetary[i]!);
  if (total <= 0) return categories;
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => monetary[y]! - monetary[x]! || x - y);
  let before = 0;
  for (const i of order) {
    const value = monetary[i]!;
    if (value <= 0) break;
    const share = before / total;
    categories[i] = share < thresholds.a ? "A" : share < thresholds.b ? "B" : "C";
    before += value;
  }
  return categories;
}
