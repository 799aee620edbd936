import type { AgentSandboxes, Language, SandboxInterpreter } from "@edgeswarm/shared";

/**
 * What a pool's sandboxes can be counted on to hold, per language: only what
 * every connected agent serving that language advertises, at the lowest
 * version among them. An execution may land on any of them, so a prompt that
 * promises more would sometimes be wrong. An agent that advertises nothing
 * (an older one) makes its languages' lists empty.
 */
export interface LanguageProfile {
  language: Language;
  /** Connected agents serving the language. */
  agents: number;
  /** Present when every one of them names the same interpreter; the lowest version. */
  interpreter?: SandboxInterpreter;
  /** Package name → the lowest version any of them has. */
  packages: Record<string, string>;
}

export interface SandboxProfile {
  /** One entry per language some connected agent serves, sorted by language. */
  languages: LanguageProfile[];
}

/** One connected agent, as far as the profile needs it. */
export interface ProfileAgent {
  languages: readonly Language[];
  sandboxes: AgentSandboxes | undefined;
}

/**
 * Orders versions by their dotted parts, numbers as numbers: "1.10.1" > "1.9".
 * Not full PEP 440; enough to pick the lower of two releases of one package.
 */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[^A-Za-z0-9]+/);
  const pb = b.split(/[^A-Za-z0-9]+/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? "";
    const y = pb[i] ?? "";
    if (x === y) continue;
    if (x === "") return -1;
    if (y === "") return 1;
    const nx = /^\d+$/.test(x) ? Number(x) : Number.NaN;
    const ny = /^\d+$/.test(y) ? Number(y) : Number.NaN;
    if (!Number.isNaN(nx) && !Number.isNaN(ny)) return nx - ny;
    return x < y ? -1 : 1;
  }
  return 0;
}

function lower(a: string, b: string): string {
  return compareVersions(a, b) <= 0 ? a : b;
}

/** The pool's profile from its connected agents. */
export function sandboxProfile(agents: readonly ProfileAgent[]): SandboxProfile {
  const languages = [...new Set(agents.flatMap((a) => a.languages))].sort();
  return {
    languages: languages.map((language) => {
      const serving = agents.filter((a) => a.languages.includes(language));
      const own = serving.map((a) => a.sandboxes?.find((s) => s.language === language));
      let packages: Record<string, string> | undefined;
      let interpreter: SandboxInterpreter | undefined;
      let sameInterpreter = true;
      for (const sandbox of own) {
        const mine = sandbox?.packages ?? {};
        packages =
          packages === undefined
            ? { ...mine }
            : Object.fromEntries(
                Object.entries(packages).flatMap(([name, v]) => {
                  const other = mine[name];
                  return other === undefined ? [] : [[name, lower(v, other)]];
                }),
              );
        const i = sandbox?.interpreter;
        if (!i || (interpreter && interpreter.name !== i.name)) sameInterpreter = false;
        else interpreter = interpreter ? { name: i.name, version: lower(interpreter.version, i.version) } : { ...i };
      }
      return {
        language,
        agents: serving.length,
        ...(sameInterpreter && interpreter ? { interpreter } : {}),
        packages: packages ?? {},
      };
    }),
  };
}
