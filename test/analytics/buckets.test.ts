import { describe, expect, it } from "vitest";
import { bucketRange, bucketStart, isoInZone, isValidTimeZone, localToUtc, nextBucket } from "../../src/analytics/buckets";

const utc = (iso: string) => Date.parse(iso);

describe("time buckets in a zone", () => {
  it("starts days at local midnight, 23 or 25 hours long across DST", () => {
    const tz = "Europe/Istanbul";
    expect(isoInZone(bucketStart(utc("2026-06-01T22:30:00Z"), "day", tz), tz)).toBe("2026-06-02T00:00:00+03:00");
    const berlin = "Europe/Berlin";
    const spring = bucketStart(utc("2026-03-29T12:00:00Z"), "day", berlin);
    expect(isoInZone(spring, berlin)).toBe("2026-03-29T00:00:00+01:00");
    expect((nextBucket(spring, "day", berlin) - spring) / 3_600_000).toBe(23);
    const autumn = bucketStart(utc("2026-10-25T12:00:00Z"), "day", berlin);
    expect((nextBucket(autumn, "day", berlin) - autumn) / 3_600_000).toBe(25);
    expect(isoInZone(nextBucket(autumn, "day", berlin), berlin)).toBe("2026-10-26T00:00:00+01:00");
  });

  it("handles half- and quarter-hour offsets", () => {
    expect(isoInZone(bucketStart(utc("2026-01-10T20:00:00Z"), "day", "Asia/Kolkata"), "Asia/Kolkata")).toBe("2026-01-11T00:00:00+05:30");
    expect(bucketStart(utc("2026-01-10T20:00:00Z"), "day", "Asia/Kolkata")).toBe(utc("2026-01-10T18:30:00Z"));
    expect(bucketStart(utc("2026-01-10T20:00:00Z"), "day", "Asia/Kathmandu")).toBe(utc("2026-01-10T18:15:00Z"));
    // Hours start on the local hour: :30 past in UTC for Kolkata.
    expect(bucketStart(utc("2026-01-10T20:10:00Z"), "hour", "Asia/Kolkata")).toBe(utc("2026-01-10T19:30:00Z"));
  });

  it("starts months on the local first", () => {
    const ny = "America/New_York";
    expect(isoInZone(bucketStart(utc("2026-03-01T03:00:00Z"), "month", ny), ny)).toBe("2026-02-01T00:00:00-05:00");
    expect(isoInZone(nextBucket(bucketStart(utc("2026-03-15T00:00:00Z"), "month", ny), "month", ny), ny)).toBe("2026-04-01T00:00:00-04:00");
  });

  it("maps a wall time skipped by DST to the instant the clock jumps past it", () => {
    // São Paulo no longer has DST; Havana's midnight skip: 2026-03-08 00:00 does not exist there.
    const at = localToUtc(2026, 3, 8, 0, "America/Havana");
    expect(isoInZone(at, "America/Havana").slice(0, 13)).toBe("2026-03-08T01");
  });

  it("lists the buckets covering a range, capped at the latest ones", () => {
    const days = bucketRange(utc("2026-01-01T00:00:00Z"), utc("2026-01-31T00:00:00Z"), "day", "UTC");
    expect(days).toHaveLength(30);
    expect(bucketRange(utc("2026-01-01T00:00:00Z"), utc("2026-01-31T00:00:00Z"), "day", "UTC", 7)[0]).toBe(utc("2026-01-24T00:00:00Z"));
    expect(bucketRange(utc("2026-01-01T00:00:00Z"), utc("2026-01-02T00:00:00Z"), "hour", "UTC")).toHaveLength(24);
    // Decades of hours: the latest 500, the last one holding the end, across DST changes.
    const hours = bucketRange(utc("2000-01-01T00:00:00Z"), utc("2026-04-01T10:30:00Z"), "hour", "Europe/Berlin");
    expect(hours).toHaveLength(500);
    expect(hours.at(-1)).toBe(utc("2026-04-01T10:00:00Z"));
    expect(hours[0]).toBe(utc("2026-04-01T10:00:00Z") - 499 * 3_600_000);
    const months = bucketRange(utc("2025-11-15T00:00:00Z"), utc("2026-02-01T00:00:00Z"), "month", "Asia/Kolkata");
    expect(months.map((m) => isoInZone(m, "Asia/Kolkata"))).toEqual(["2025-11-01T00:00:00+05:30", "2025-12-01T00:00:00+05:30", "2026-01-01T00:00:00+05:30", "2026-02-01T00:00:00+05:30"]);
  });

  it("tells known zones from unknown ones", () => {
    expect(isValidTimeZone("Asia/Kathmandu")).toBe(true);
    expect(isValidTimeZone("Mars/Olympus")).toBe(false);
  });
});
