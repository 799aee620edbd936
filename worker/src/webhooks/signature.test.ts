import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { signatureHeader } from "./signature.ts";

describe("webhook signature", () => {
  it("is t=<seconds>,v1=<hex HMAC-SHA256 of '<t>.<body>'>, as node:crypto computes it", async () => {
    const body = JSON.stringify({ id: "whd_1", text: "naïve ✓" });
    const header = await signatureHeader("a-secret-of-16-chars", 1763770000, body);
    const expected = createHmac("sha256", "a-secret-of-16-chars").update(`1763770000.${body}`).digest("hex");
    expect(header).toBe(`t=1763770000,v1=${expected}`);
  });

  it("changes with the secret, the time and the body", async () => {
    const base = await signatureHeader("secret-one-0000000", 1, "{}");
    expect(await signatureHeader("secret-two-0000000", 1, "{}")).not.toBe(base);
    expect((await signatureHeader("secret-one-0000000", 2, "{}")).split(",v1=")[1]).not.toBe(base.split(",v1=")[1]);
    expect(await signatureHeader("secret-one-0000000", 1, "{ }")).not.toBe(base);
  });
});
