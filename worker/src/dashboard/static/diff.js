// A line diff for showing each version of the coder's code against the one
// before: common prefix and suffix trimmed, then a longest-common-subsequence
// table over what is left. The table is capped, because code may be large;
// past the cap the changed middle is shown as removed, then added.

/** Most cells of the LCS table (4 bytes each). */
const MAX_CELLS = 2_000_000;

function lines(text) {
  if (text === "") return [];
  const all = text.split("\n");
  if (all.at(-1) === "") all.pop(); // a final newline ends the last line; it adds none
  return all;
}

/**
 * The lines of `after` against `before`, each as `{op, text}` where `op` is
 * " " (in both), "-" (only in before) or "+" (only in after), in reading order.
 *
 *   lineDiff("a\nb\n", "a\nc\n") → [{op:" ",text:"a"}, {op:"-",text:"b"}, {op:"+",text:"c"}]
 */
export function lineDiff(before, after) {
  const a = lines(before);
  const b = lines(after);
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const out = a.slice(0, start).map((text) => ({ op: " ", text }));
  out.push(...middle(a.slice(start, endA), b.slice(start, endB)));
  out.push(...a.slice(endA).map((text) => ({ op: " ", text })));
  return out;
}

function middle(a, b) {
  const n = a.length;
  const m = b.length;
  if (n === 0 || m === 0 || (n + 1) * (m + 1) > MAX_CELLS) {
    return [...a.map((text) => ({ op: "-", text })), ...b.map((text) => ({ op: "+", text }))];
  }
  // lcs[i][j]: the LCS length of a[i:] and b[j:], row-major in one array.
  const width = m + 1;
  const lcs = new Uint32Array((n + 1) * width);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * width + j] =
        a[i] === b[j] ? lcs[(i + 1) * width + j + 1] + 1 : Math.max(lcs[(i + 1) * width + j], lcs[i * width + j + 1]);
    }
  }
  const out = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      out.push({ op: " ", text: a[i] });
      i++;
      j++;
    } else if (lcs[(i + 1) * width + j] >= lcs[i * width + j + 1]) {
      out.push({ op: "-", text: a[i++] });
    } else {
      out.push({ op: "+", text: b[j++] });
    }
  }
  while (i < n) out.push({ op: "-", text: a[i++] });
  while (j < m) out.push({ op: "+", text: b[j++] });
  return out;
}

/** How many lines were added and removed. */
export function diffStats(diff) {
  let added = 0;
  let removed = 0;
  for (const line of diff) {
    if (line.op === "+") added++;
    else if (line.op === "-") removed++;
  }
  return { added, removed };
}
