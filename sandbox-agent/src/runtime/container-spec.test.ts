import { DEFAULT_LIMITS, LIMITS } from "@edgeswarm/shared";
import { describe, expect, it } from "vitest";
import { containerSpec, shapeOf } from "./container-spec.ts";

const MiB = 1024 * 1024;
const options = { agentId: "node-1", runnerSource: "print('runner')" };

// Every layer of the sandbox, one assertion each: the runner's own hardening
// inside would hide a lost setting from the behaviour tests, so the settings
// themselves are checked here (and on a live container, in test/abuse/isolation).
describe("the container a sandbox is made of", () => {
  const shape = { ...shapeOf(DEFAULT_LIMITS), memoryMb: 300, cpus: 1.5, pids: 50, workspaceMb: 7, tmpMb: 9, shmMb: 3 };
  const spec = containerSpec("img:1", shape, options, "edgeswarm-ex_0123");
  const host = spec.HostConfig ?? {};

  it("has no network at all, by both of Docker's settings", () => {
    expect(host.NetworkMode).toBe("none");
    expect(spec.NetworkDisabled).toBe(true);
  });

  it("holds no capability but the three the runner drops before reading anything, and gains none", () => {
    expect(host.CapDrop).toEqual(["ALL"]);
    expect(host.CapAdd).toEqual(["SETUID", "SETGID", "SETPCAP"]);
    expect(host.SecurityOpt).toEqual(["no-new-privileges"]);
    expect(host.Privileged).toBe(false);
  });

  it("has a read-only root, and sized, noexec tmpfs for the workspace and /tmp owned by nobody", () => {
    expect(host.ReadonlyRootfs).toBe(true);
    expect(host.Tmpfs).toEqual({
      "/workspace": `rw,nosuid,nodev,noexec,size=${7 * MiB},uid=65534,gid=65534,mode=0700`,
      "/tmp": `rw,nosuid,nodev,noexec,size=${9 * MiB},uid=65534,gid=65534,mode=0700`,
    });
    expect(host.ShmSize).toBe(3 * MiB);
    expect(host.IpcMode).toBe("private");
  });

  it("mounts nothing of the host, no device, no Docker socket", () => {
    for (const key of ["Binds", "Mounts", "Devices", "VolumesFrom", "PortBindings", "Links"] as const) {
      expect(host[key], key).toBeUndefined();
    }
    expect(spec.Volumes).toBeUndefined();
  });

  it("caps memory without swap, CPUs, processes, open files, file size, and allows no core dump", () => {
    expect(host.Memory).toBe(300 * MiB);
    expect(host.MemorySwap).toBe(300 * MiB);
    expect(host.NanoCpus).toBe(1.5e9);
    expect(host.PidsLimit).toBe(50);
    expect(host.Ulimits).toEqual([
      { Name: "nofile", Soft: LIMITS.openFiles.max, Hard: LIMITS.openFiles.max },
      { Name: "fsize", Soft: LIMITS.fileSizeMb.max * MiB, Hard: LIMITS.fileSizeMb.max * MiB },
      { Name: "core", Soft: 0, Hard: 0 },
    ]);
  });

  it("starts the runner as PID 1 with nothing of the agent's environment, and keeps no log", () => {
    expect(spec.Entrypoint).toEqual(["python3"]);
    expect(spec.Cmd).toEqual(["-I", "-c", options.runnerSource]);
    expect(spec.User).toBe("0:0"); // the runner drops to its own uid, the program runs as 65534 (runner.py)
    expect(spec.Env).toEqual(["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"]);
    expect(host.Init).toBe(false);
    expect(host.LogConfig).toEqual({ Type: "none", Config: {} });
    expect(host.AutoRemove).toBe(false);
    expect(spec.Labels).toEqual({ "edgeswarm.managed": "true", "edgeswarm.agent": "node-1" });
    expect(spec.name).toBe("edgeswarm-ex_0123");
  });

  it("under gVisor, names the runtime and gives the pids cgroup room for gVisor's own tasks", () => {
    const gvisor = containerSpec("img:1", shape, { ...options, runtime: "runsc" });
    expect(gvisor.HostConfig?.Runtime).toBe("runsc");
    expect(gvisor.HostConfig?.PidsLimit).toBe(64 + 32 * 50);
    expect(host.Runtime).toBeUndefined();
  });
});
