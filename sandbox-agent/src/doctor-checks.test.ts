import type { AgentSandbox } from "@edgeswarm/shared";
import { describe, expect, it } from "vitest";
import { formatResult, imageCheck, nodeCheck, runtimeCheck, summarise } from "./doctor-checks.ts";

describe("doctor's checks", () => {
  it("wants Node 22.12 or newer", () => {
    expect(nodeCheck("22.23.3").status).toBe("ok");
    expect(nodeCheck("24.1.0").status).toBe("ok");
    const old = nodeCheck("20.19.2");
    expect(old.status).toBe("fail");
    expect(old.detail).toBe("Node 20.19.2 is older than 22.12");
    expect(old.fix).toContain("node@22");
    expect(nodeCheck("22.11.0").status).toBe("fail");
  });

  it("finds the runtime the agent would use among Docker's", () => {
    const info = { Runtimes: { runc: {}, "io.containerd.runc.v2": {} }, DefaultRuntime: "runc" };
    expect(runtimeCheck(undefined, info)).toMatchObject({
      status: "ok",
      detail: "runc (Docker's default) is registered",
    });
    const runsc = runtimeCheck("runsc", info);
    expect(runsc.status).toBe("fail");
    expect(runsc.detail).toBe("runsc (--runtime) is not registered with Docker (it has: runc, io.containerd.runc.v2)");
    expect(runsc.fix).toContain("--network=none");
    expect(runtimeCheck("runsc", { Runtimes: { runc: {}, runsc: {} } }).status).toBe("ok");
  });

  it("says which image is missing and how to get one", () => {
    const line = formatResult(imageCheck("edgeswarm/nope:1", ["python", "bash"], { kind: "missing" }));
    expect(line).toMatch(/^fail {2}image {4}edgeswarm\/nope:1 \(python, bash\) is not on this host; fix: build it/);
  });

  it("lists an image's interpreters and packages, and fails a language it cannot run", () => {
    const sandboxes: AgentSandbox[] = [
      {
        language: "python",
        image: "img",
        interpreter: { name: "python", version: "3.11.2" },
        packages: { numpy: "1.24.2" },
      },
      { language: "bash", image: "img", packages: {} },
    ];
    const ok = imageCheck("img", ["python"], { kind: "probed", sandboxes });
    expect(formatResult(ok)).toBe("ok    image    img (python): python 3.11.2; 1 Python packages (numpy 1.24.2)");
    const lacking = imageCheck("img", ["python", "bash"], { kind: "probed", sandboxes });
    expect(lacking).toMatchObject({
      status: "fail",
      detail: "img (python, bash) has no bash interpreter (found: python 3.11.2)",
    });
  });

  it("counts failures, and the checks that were not run because of them", () => {
    expect(summarise([{ check: "node", status: "ok", detail: "" }])).toBe("all 1 checks passed");
    expect(
      summarise([
        { check: "docker", status: "fail", detail: "" },
        { check: "runtime", status: "skip", detail: "" },
        { check: "node", status: "ok", detail: "" },
      ]),
    ).toBe("1 of 3 checks failed, 1 not run because of them");
  });
});
