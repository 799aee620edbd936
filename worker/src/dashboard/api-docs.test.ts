import { describe, expect, it } from "vitest";

// The API reference's type words (static/api-docs.js), without a DOM. The
// module is plain browser JavaScript (text to the Worker), so it is imported
// by a computed path, as browser-modules.test.ts does, and typed here.
interface ApiDocsModule {
  refName(schema: unknown): string | null;
  typeText(schema: unknown): string;
}
const load = <T>(path: string): Promise<T> => import(/* @vite-ignore */ path) as Promise<T>;

describe("the API reference's types", () => {
  it("names components, arrays, maps, enums and bounds", async () => {
    const { refName, typeText } = await load<ApiDocsModule>("./static/api-docs.js");
    expect(refName({ $ref: "#/components/schemas/RunView" })).toBe("RunView");
    expect(typeText({ $ref: "#/components/schemas/RunView" })).toBe("RunView");
    expect(typeText({ type: "array", items: { $ref: "#/components/schemas/WorkspaceFile" } })).toBe(
      "array of WorkspaceFile",
    );
    expect(typeText({ type: "object", additionalProperties: { type: "string" } })).toBe("map of string");
    expect(typeText({ type: "string", enum: ["never", "always"] })).toBe('"never" | "always"');
    expect(typeText({ type: "integer", minimum: 1, maximum: 50 })).toBe("integer ≥ 1 ≤ 50");
    expect(typeText({ type: "integer", minimum: -9007199254740991, maximum: 9007199254740991 })).toBe("integer");
    expect(typeText({ anyOf: [{ type: "string" }, { type: "null" }] })).toBe("string | null");
    expect(typeText({ const: "run.finished" })).toBe('"run.finished"');
    expect(typeText(undefined)).toBe("any");
  });
});
