import { describe, expect, it } from "vitest";
import { signAwsRequest } from "../../src/activations/sigv4";

// AWS's Signature Version 4 test suite (aws-sig-v4-test-suite), credentials AKIDEXAMPLE.
const credentials = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" };
const scope = { region: "us-east-1", service: "service" };
const at = new Date("2015-08-30T12:36:00Z");

describe("SigV4", () => {
  it("signs get-vanilla as the AWS test suite expects", async () => {
    const headers = await signAwsRequest({ method: "GET", url: new URL("https://example.amazonaws.com/"), headers: {} }, credentials, scope, at);
    expect(headers["x-amz-date"]).toBe("20150830T123600Z");
    expect(headers.Authorization).toBe(
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
    );
  });

  it("signs the same request the same way whatever the order of its query and headers", async () => {
    const a = await signAwsRequest({ method: "GET", url: new URL("https://example.amazonaws.com/?b=2&a=1"), headers: { "X-B": "2", "x-a": " 1  1 " } }, credentials, scope, at);
    const b = await signAwsRequest({ method: "GET", url: new URL("https://example.amazonaws.com/?a=1&b=2"), headers: { "x-a": "1 1", "X-B": "2" } }, credentials, scope, at);
    expect(a.Authorization).toBe(b.Authorization);
    expect(a.Authorization).toContain("SignedHeaders=host;x-a;x-amz-date;x-b,");
    const c = await signAwsRequest({ method: "GET", url: new URL("https://example.amazonaws.com/?a=1&b=3"), headers: { "x-a": "1 1", "X-B": "2" } }, credentials, scope, at);
    expect(c.Authorization).not.toBe(a.Authorization);
  });
});
