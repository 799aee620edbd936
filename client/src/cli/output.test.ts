import { describe, expect, it } from "vitest";
import { byteSize, oneLine, printable } from "./output.ts";

describe("text from models and programs on a terminal", () => {
  it("shows control characters as visible escapes, keeping newlines, tabs and every printable character", () => {
    expect(printable("\u001b]0;owned\u0007\u001b[2Jhello")).toBe("\\x1b]0;owned\\x07\\x1b[2Jhello");
    expect(printable("a\tb\nc\rd\u009b31m é ✓ 😀")).toBe("a\tb\nc\\x0dd\\x9b31m é ✓ 😀");
    expect(printable("\u0000\u007f")).toBe("\\x00\\x7f");
  });

  it("flattens to one line, escapes, then cuts", () => {
    expect(oneLine("two\nlines \u001b[31m red", 80)).toBe("two lines \\x1b[31m red");
    expect(oneLine("x".repeat(100), 10)).toBe(`${"x".repeat(9)}…`);
  });

  it("sizes files in bytes, KiB and MiB", () => {
    expect([byteSize(812), byteSize(12_595), byteSize(1_468_006)]).toEqual(["812 B", "12.3 KiB", "1.4 MiB"]);
  });
});
