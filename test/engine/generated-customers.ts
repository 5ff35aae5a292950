import { seededRandom } from "../../src/engine/random";
import type { CustomerAggregate } from "../../src/engine/rfm";

const DAY = 86_400_000;

/**
 * n customer aggregates (ids in customer_id order) of several kinds over two years: one-time buyers,
 * regulars, big spenders, lapsed ones and a few with returns only; whole-dollar amounts so that many
 * customers tie on monetary value (ABC must rank ties as a sort would); numeric extra features, one
 * of them on only some customers, and a string one. Deterministic for the seed.
 */
export function generatedCustomers(n: number, seed = 5): CustomerAggregate[] {
  const random = seededRandom(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const reference = Date.UTC(2025, 11, 31);
  return Array.from({ length: n }, (_, i) => {
    const customerId = `c-${String(i).padStart(7, "0")}`;
    const extraFeatures = random() < 0.85 ? { visits: int(0, 60), ...(random() < 0.4 && { score: random() * 3 - 1 }), plan: random() < 0.5 ? "a" : "b" } : null;
    if (random() < 0.01) {
      return { customerId, firstPurchaseAt: null, lastPurchaseAt: null, lastTransactionAt: reference - int(0, 700) * DAY, frequency: 0, purchaseDays: 0, monetaryCents: -int(1, 90) * 100, returnRate: 1, extraFeatures };
    }
    const kind = random();
    const orders = kind < 0.45 ? 1 : kind < 0.8 ? int(2, 9) : kind < 0.9 ? int(10, 40) : int(2, 5);
    const firstAgo = kind < 0.45 ? int(0, 700) : kind < 0.9 ? int(90, 700) : int(400, 700);
    const lastAgo = kind < 0.45 ? firstAgo : kind < 0.9 ? int(0, Math.min(90, firstAgo)) : int(300, firstAgo);
    const returns = random() < 0.1 ? int(1, orders) : 0;
    return {
      customerId,
      firstPurchaseAt: reference - firstAgo * DAY,
      lastPurchaseAt: reference - lastAgo * DAY,
      lastTransactionAt: reference - lastAgo * DAY + (returns ? int(0, lastAgo) * DAY : 0),
      frequency: orders,
      purchaseDays: Math.max(1, Math.min(orders, firstAgo - lastAgo + 1)),
      monetaryCents: orders * int(10, kind >= 0.8 && kind < 0.9 ? 120 : 40) * 100 - returns * 1500,
      returnRate: Math.min(1, returns / orders),
      extraFeatures,
    };
  });
}
