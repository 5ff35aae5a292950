// Customer aggregates for the engine benchmarks, as ingest stores them: CDNOW's, and generated ones.
import { readFileSync } from "node:fs";
import { random as seededRandom } from "./random.mjs";

const DAY_MS = 86_400_000;

/** Standard normal draws from a uniform source (Box–Muller, both values used). */
export function gaussian(random) {
  let spare = null;
  return () => {
    if (spare !== null) {
      const value = spare;
      spare = null;
      return value;
    }
    const u = 1 - random(); // (0, 1]: log(0) never happens
    const v = random();
    const radius = Math.sqrt(-2 * Math.log(u));
    spare = radius * Math.sin(2 * Math.PI * v);
    return radius * Math.cos(2 * Math.PI * v);
  };
}

/** CDNOW_master.txt → one aggregate per customer, as ingest would store it (orders = rows). */
export function cdnowCustomers(file) {
  const byCustomer = new Map();
  const lines = readFileSync(file, "utf8").split("\n");
  for (const line of lines.slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 4) continue; // blank line at the end
    const [id, date, , dollars] = fields;
    const at = Date.UTC(Number(date.slice(0, 4)), Number(date.slice(4, 6)) - 1, Number(date.slice(6, 8)));
    if (!Number.isFinite(at) || !Number.isFinite(Number(dollars))) throw new Error(`bad CDNOW line: ${line}`);
    let c = byCustomer.get(id);
    if (!c) byCustomer.set(id, (c = { first: at, last: at, orders: 0, days: new Set(), dollars: 0 }));
    c.first = Math.min(c.first, at);
    c.last = Math.max(c.last, at);
    c.orders++;
    c.days.add(at);
    c.dollars += Number(dollars);
  }
  return [...byCustomer].map(([customerId, c]) => ({
    customerId,
    firstPurchaseAt: c.first,
    lastPurchaseAt: c.last,
    lastTransactionAt: c.last,
    frequency: c.orders,
    purchaseDays: c.days.size,
    monetaryCents: Math.round(c.dollars * 100),
    returnRate: 0,
    extraFeatures: null,
  }));
}

/**
 * n customers over three years with varied behaviour: one-time buyers, regulars, big spenders, lapsed
 * customers, some returns (a few customers with returns only), and a numeric extra feature (plus a
 * string one the engine must ignore). Deterministic for the seed; yielded in pages of `pageSize`, in
 * customer_id order, as the model run reads them from D1, so a large project need not be held at once.
 */
export function* generatedCustomerPages(n, seed, pageSize = 10_000) {
  const random = seededRandom(seed);
  const normal = gaussian(random);
  const reference = Date.UTC(2025, 5, 30);
  const historyDays = 3 * 365;
  const int = (lo, hi) => lo + Math.floor(random() * (hi - lo + 1));
  let customers = [];
  for (let i = 0; i < n; i++) {
    if (customers.length === pageSize) {
      yield customers;
      customers = [];
    }
    const customerId = `gen-${String(i).padStart(6, "0")}`;
    const extraFeatures = random() < 0.9 ? { age: int(18, 80), loyalty_points: Math.round(Math.exp(4 + 1.5 * normal())), channel: random() < 0.5 ? "web" : "app" } : null;
    if (random() < 0.004) {
      // returns only: no purchase recorded in the data, so no first/last purchase
      const at = reference - int(0, historyDays) * DAY_MS;
      customers.push({ customerId, firstPurchaseAt: null, lastPurchaseAt: null, lastTransactionAt: at, frequency: 0, purchaseDays: 0, monetaryCents: -int(500, 20_000), returnRate: 1, extraFeatures });
      continue;
    }
    const kind = random();
    let orders, firstAgo, lastAgo, basket;
    if (kind < 0.4) {
      orders = 1; // one-time buyer
      firstAgo = lastAgo = int(0, historyDays);
      basket = Math.exp(3.3 + 0.7 * normal());
    } else if (kind < 0.75) {
      orders = 2 + Math.floor(-Math.log(1 - random()) * 4); // regular: geometric-ish, mean ~6
      firstAgo = int(60, historyDays);
      lastAgo = int(0, Math.min(120, firstAgo - orders));
      basket = Math.exp(3.6 + 0.6 * normal());
    } else if (kind < 0.83) {
      orders = int(12, 80); // big spender
      firstAgo = int(300, historyDays);
      lastAgo = int(0, 45);
      basket = Math.exp(4.6 + 0.5 * normal());
    } else {
      orders = int(2, 6); // lapsed
      firstAgo = int(400, historyDays);
      lastAgo = int(200, firstAgo - orders);
      basket = Math.exp(3.4 + 0.7 * normal());
    }
    lastAgo = Math.max(0, Math.min(lastAgo, firstAgo));
    // distinct purchase days: at most one per day of the span, and a few orders share a day
    const purchaseDays = Math.max(1, Math.min(firstAgo - lastAgo + 1, orders - Math.floor(orders * 0.1 * random())));
    const returnCount = random() < 0.15 ? int(1, Math.max(1, Math.ceil(orders / 3))) : 0;
    const purchasesCents = Math.round(orders * basket * (0.8 + 0.4 * random()) * 100);
    const returnsCents = Math.round((purchasesCents * returnCount * (0.5 + random())) / (orders + returnCount));
    const firstPurchaseAt = reference - firstAgo * DAY_MS;
    const lastPurchaseAt = reference - lastAgo * DAY_MS;
    customers.push({
      customerId,
      firstPurchaseAt,
      lastPurchaseAt,
      lastTransactionAt: returnCount > 0 ? Math.min(reference, lastPurchaseAt + int(1, 30) * DAY_MS) : lastPurchaseAt,
      frequency: orders,
      purchaseDays,
      monetaryCents: purchasesCents - returnsCents,
      returnRate: Math.min(1, returnCount / orders),
      extraFeatures,
    });
  }
  if (customers.length) yield customers;
}

/** generatedCustomerPages, all in one array. */
export function generatedCustomers(n, seed) {
  return [...generatedCustomerPages(n, seed)].flat();
}
