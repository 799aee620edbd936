/** A systemd unit file: each section's keys, each with every value it was given, in order. */
export type UnitFile = Record<string, Record<string, string[]>>;

/**
 * Parses a unit file as systemd reads it: `[Section]` headers, `Key=Value`
 * lines, `#` and `;` comments, and a trailing backslash continuing a line.
 */
export function parseUnitFile(text: string): UnitFile {
  const unit: UnitFile = {};
  let section: Record<string, string[]> | undefined;
  const lines = text.replace(/\\\n/g, " ").split("\n");
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header?.[1]) {
      unit[header[1]] ??= {};
      section = unit[header[1]];
      continue;
    }
    const eq = line.indexOf("=");
    if (!section || eq <= 0) throw new Error(`line ${index + 1} is neither a section nor Key=Value: ${raw}`);
    const key = line.slice(0, eq).trim();
    section[key] = [...(section[key] ?? []), line.slice(eq + 1).trim()];
  }
  return unit;
}
