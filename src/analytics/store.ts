import type { UsageEvent, UsageEventType } from "./schema";

/** Dimensions a usage query may group by (logical names; each store maps them to its columns). */
export const usageDimensions = ["type", "projectId", "apiKeyId", "detail"] as const;
export type UsageDimension = (typeof usageDimensions)[number];

export type UsageQuery = {
  organizationId: string;
  projectId?: string | null;
  types?: readonly UsageEventType[];
  /** UTC ms, start inclusive, end exclusive */
  start: number;
  end: number;
  /**
   * Width of the UTC slots the store sums into, in minutes. 15 lets the caller re-bucket into any
   * time zone (every IANA offset is a multiple of 15 minutes); larger slots suit UTC-only views.
   */
  slotMinutes: number;
  dimensions: readonly UsageDimension[];
};

export type UsageRow = { slot: number; value: number } & Partial<Record<UsageDimension, string | null>>;

/**
 * Where usage and trend events go and are read back from: Analytics Engine in production, D1 locally
 * and in tests. Both answer the same typed queries.
 */
export interface AnalyticsStore {
  record(events: UsageEvent[]): Promise<void>;
  usage(query: UsageQuery): Promise<UsageRow[]>;
}
