/**
 * The usage event and its one mapping onto Analytics Engine columns. Writes (blobs/doubles) and the
 * SQL the AE store reads with are both derived from `aeColumns`, so they cannot drift apart; the D1
 * store keeps the same logical columns in `usage_events`. The organization is the AE index.
 */
export const usageEventTypes = ["rows_ingested", "api_request", "model_run", "genai_op", "segment_size"] as const;
export type UsageEventType = (typeof usageEventTypes)[number];

export type UsageEvent = {
  organizationId: string;
  type: UsageEventType;
  projectId?: string | null;
  apiKeyId?: string | null;
  /** free-form qualifier, e.g. the route of an API request */
  detail?: string | null;
  /** rows for rows_ingested, 1 for a request or a run, members for segment_size (detail: segment id) */
  value: number;
  /** UTC milliseconds; now when absent */
  timestamp?: number;
};

export const aeColumns: Record<"type" | "projectId" | "apiKeyId" | "detail" | "value", string> = {
  type: "blob1",
  projectId: "blob2",
  apiKeyId: "blob3",
  detail: "blob4",
  value: "double1",
};

/** The data point the Analytics Engine binding takes for an event. */
export function toDataPoint(event: UsageEvent): AnalyticsEngineDataPoint {
  const blobs: Record<string, string> = {
    [aeColumns.type]: event.type,
    [aeColumns.projectId]: event.projectId ?? "",
    [aeColumns.apiKeyId]: event.apiKeyId ?? "",
    [aeColumns.detail]: event.detail ?? "",
  };
  return {
    indexes: [event.organizationId],
    blobs: ["blob1", "blob2", "blob3", "blob4"].map((name) => blobs[name]!),
    doubles: [event.value],
  };
}
