import { z } from "zod";

/**
 * JSON kept in text columns, read back here and nowhere else. Small values read one at a time are
 * validated, so a malformed row fails here by name rather than deep in a caller. The per-customer
 * values are typed, not re-validated: only our own consumers write them (from input validated on the
 * way in), and a model run or a similarity search reads hundreds of thousands of them.
 */

const TaxId = z.object({ type: z.string(), value: z.string() });
export type TaxId = z.infer<typeof TaxId>;

const SignalPaths = z.array(z.object({ path: z.string(), types: z.array(z.object({ type: z.string(), customers: z.number() })) }));
export type SignalPath = z.infer<typeof SignalPaths>[number];

/** billing_accounts.tax_id, as sent to Stripe. */
export const storedTaxId = (text: string): TaxId => TaxId.parse(JSON.parse(text));

/** project_signals.paths: the cached answer of signalsMetadata for one project. */
export const storedSignalPaths = (text: string): SignalPath[] => SignalPaths.parse(JSON.parse(text));

/** customers.extra_features: the tenant's own columns of a customer, a JSON object. */
export const storedExtraFeatures = (text: string): Record<string, unknown> => JSON.parse(text) as Record<string, unknown>;

/** customers.embedding: the customer's feature vector, written by the model run. */
export const storedEmbedding = (text: string): number[] => JSON.parse(text) as number[];
