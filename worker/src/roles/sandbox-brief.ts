import type { Language } from "@edgeswarm/shared";
import type { LanguageProfile, SandboxProfile } from "../pool/sandbox-profile.ts";

/**
 * Packages named first, with their versions, when the sandbox has them: what
 * a data task reaches for. The rest are named without versions, up to
 * MAX_OTHER_NAMES, so the brief stays a few lines however full the image.
 */
const NOTABLE = [
  "numpy",
  "pandas",
  "matplotlib",
  "scipy",
  "sympy",
  "scikit-learn",
  "seaborn",
  "statsmodels",
  "openpyxl",
  "pillow",
  "tabulate",
];
const MAX_OTHER_NAMES = 24;

const DISPLAY: Record<Language, string> = { python: "Python", bash: "bash", node: "Node.js" };

function languageLine(profile: LanguageProfile): string {
  const name = DISPLAY[profile.language];
  const runs = profile.interpreter ? `${name} ${profile.interpreter.version}` : name;
  const names = Object.keys(profile.packages);
  if (profile.language !== "python") return `- ${runs}.`;
  if (names.length === 0) {
    return `- ${runs} with its standard library only, as far as the pool's agents say.`;
  }
  const notable = NOTABLE.filter((n) => profile.packages[n] !== undefined);
  const others = names.filter((n) => !NOTABLE.includes(n)).sort();
  const shown = others.slice(0, MAX_OTHER_NAMES);
  const more = others.length - shown.length;
  const parts = [
    notable.length > 0 ? `with ${notable.map((n) => `${n} ${profile.packages[n]}`).join(", ")}` : "",
    shown.length > 0 ? `also ${shown.join(", ")}${more > 0 ? ` and ${more} more` : ""}` : "",
  ].filter(Boolean);
  return `- ${runs} ${parts.join("; ")}.`;
}

/**
 * A few lines for a system prompt on what the sandbox offers, from what the
 * pool's agents advertise (PoolDO.sandboxProfile), never from hard-coded text.
 *
 * @example
 * sandboxBrief(profile)
 * // "The sandbox runs:\n- Python 3.11.2 with numpy 1.24.2, pandas 1.5.3, ...\n- bash 5.2.15.\n
 * //  matplotlib draws with the Agg backend: ...\nNo network: ..."
 */
export function sandboxBrief(profile: SandboxProfile): string {
  if (profile.languages.length === 0) return "No sandbox agent is connected to the pool now.";
  const lines = ["The sandbox runs:", ...profile.languages.map(languageLine)];
  const python = profile.languages.find((l) => l.language === "python");
  if (python?.packages.matplotlib !== undefined) {
    lines.push(
      "matplotlib draws with the Agg backend, with no display: save figures to files (PNG) in the working " +
        "directory, e.g. plt.savefig('plot.png'); files a program writes there come back with its result.",
    );
  }
  lines.push("No network: nothing can be downloaded or installed (no pip), so use what is listed.");
  return lines.join("\n");
}

/** Said when no agent has told what its sandbox holds, or the pool cannot be asked. */
export const UNKNOWN_SANDBOX =
  "The sandbox runs Python 3 and bash. What else it holds is not known now: check before you rely on a package. " +
  "No network: nothing can be downloaded or installed.";

/** A role's system prompt with the sandbox's description after it. */
export function withSandbox(system: string, sandbox: string | null | undefined): string {
  return `${system.trimEnd()}\n\n${sandbox ?? UNKNOWN_SANDBOX}\n`;
}
