// Targets the bench reports against. A missed target is printed MISSED; it
// never fails the bench (the figures are what matter, and they vary by machine).

export interface Target {
  /** What is compared, e.g. "edgeswarm p50". */
  what: string;
  value: number;
  op: "<=" | ">=";
  limit: number;
  unit: string;
  met: boolean;
}

export function target(what: string, value: number, op: "<=" | ">=", limit: number, unit: string): Target {
  return { what, value, op, limit, unit, met: op === "<=" ? value <= limit : value >= limit };
}

/** A value with its unit: ratios as `12.3x` (two decimals below 10), the rest with one decimal. */
export function formatValue(x: number, unit: string): string {
  if (unit === "x") return `${x.toFixed(x < 10 ? 2 : 1)}x`;
  return `${x.toFixed(1)} ${unit}`;
}

/** `edgeswarm p50 <= 15 ms     12.3 ms  met`, or MISSED. */
export function formatTarget(t: Target, width = 34): string {
  const goal = `${t.what} ${t.op === "<=" ? "≤" : "≥"} ${formatValue(t.limit, t.unit)}`;
  return `${goal.padEnd(width)}${formatValue(t.value, t.unit).padStart(10)}  ${t.met ? "met" : "MISSED"}`;
}
