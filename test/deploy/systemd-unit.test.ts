import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../../scripts/lib/paths.ts";
import { runCommand } from "./command.ts";
import { parseUnitFile } from "./unit-file.ts";

const UNIT = join(ROOT, "deploy/agent/edgeswarm-agent.service");
const hasAnalyze = spawnSync("systemd-analyze", ["--version"]).status === 0;

describe("deploy/agent/edgeswarm-agent.service", () => {
  it("runs the agent as its own user in the docker group, hardened, restarting on failure", async () => {
    const unit = parseUnitFile(await readFile(UNIT, "utf8"));
    const service = unit.Service ?? {};
    const one = (key: string) => {
      expect(service[key], `[Service] ${key}= is set once`).toHaveLength(1);
      return service[key]?.[0];
    };
    expect(one("ExecStart")).toMatch(/ \/opt\/edgeswarm\/sandbox-agent\/bin\/edgeswarm-agent\.js$/);
    expect(one("User")).toBe("edgeswarm");
    expect(one("SupplementaryGroups")).toBe("docker");
    expect(one("EnvironmentFile")).toBe("/etc/edgeswarm/agent.env");
    expect(one("Restart")).toBe("on-failure");
    expect(one("KillSignal")).toBe("SIGTERM");
    // Long enough to drain an execution at the longest timeout (300 s).
    expect(Number(one("TimeoutStopSec"))).toBeGreaterThan(300);
    for (const [key, value] of Object.entries({
      NoNewPrivileges: "yes",
      ProtectSystem: "strict",
      ProtectHome: "yes",
      PrivateTmp: "yes",
      PrivateDevices: "yes",
      ProtectKernelTunables: "yes",
      ProtectKernelModules: "yes",
      ProtectControlGroups: "yes",
      RestrictSUIDSGID: "yes",
      CapabilityBoundingSet: "",
    })) {
      expect(one(key), `${key}=`).toBe(value);
    }
    // Docker is reached through a Unix socket; no path is bound in by name (see the unit's comment).
    expect(one("RestrictAddressFamilies")?.split(" ")).toContain("AF_UNIX");
    expect(service.ReadWritePaths ?? []).toEqual([]);
    expect(service.DynamicUser ?? []).toEqual([]);
    // V8's JIT needs W+X memory: this option would kill Node at start.
    expect(service.MemoryDenyWriteExecute ?? []).toEqual([]);
    expect(unit.Unit?.After?.join(" ")).toMatch(/docker\.service/);
    expect(unit.Install?.WantedBy).toEqual(["multi-user.target"]);
  });

  // systemd-analyze is there wherever systemd is; without it the keys above are all that is checked.
  it.skipIf(!hasAnalyze)("passes systemd-analyze verify with nothing to say", async () => {
    // verify checks that ExecStart's program exists: point it at this Node, wherever it is.
    const dir = await mkdtemp(join(tmpdir(), "edgeswarm-unit-"));
    try {
      const copy = join(dir, "edgeswarm-agent.service");
      const text = await readFile(UNIT, "utf8");
      await writeFile(copy, text.replace(/^ExecStart=\S+/m, `ExecStart=${process.execPath}`));
      const verified = await runCommand("systemd-analyze", ["verify", copy], { timeoutMs: 30_000, cwd: dir });
      expect(verified.text).toBe("");
      expect(verified.code).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
