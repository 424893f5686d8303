// Find and replace over a transcript's segments. Matching ignores case and accents ("accion"
// finds "Acción"), as the library's search does; a match never spans two segments, so a
// replacement is always one segment's correction.

/** A match: characters [start, end) of the segment at `segment` (its index in the list). */
export interface TextMatch {
  segment: number;
  start: number;
  end: number;
}

function foldChar(c: string): string {
  return c.normalize("NFD").toLowerCase().normalize("NFD").replace(/\p{M}/gu, "");
}

/** `text` folded (lower case, no accents), and for each folded character the index in `text`
 * of the character it came from. */
export function folded(text: string): { text: string; from: number[] } {
  let out = "";
  const from: number[] = [];
  for (let i = 0; i < text.length; ) {
    const cp = text.codePointAt(i)!;
    const c = String.fromCodePoint(cp);
    const f = foldChar(c);
    for (let k = 0; k < f.length; k++) from.push(i);
    out += f;
    i += c.length;
  }
  return { text: out, from };
}

/** Where `query` occurs in `text`, ignoring case and accents: [start, end) ranges in `text`. */
export function findIn(text: string, query: string): Array<[number, number]> {
  const needle = folded(query).text;
  if (!needle.trim()) return [];
  const hay = folded(text);
  const found: Array<[number, number]> = [];
  for (let at = hay.text.indexOf(needle); at >= 0; at = hay.text.indexOf(needle, at + needle.length)) {
    const last = at + needle.length - 1;
    let end = hay.from[last] + 1;
    // The rest of the last character: a surrogate pair, or marks written apart ("e" + U+0301).
    while (end < text.length && (/\p{M}/u.test(text[end]) || /[\uDC00-\uDFFF]/.test(text[end]))) end++;
    found.push([hay.from[at], end]);
  }
  return found;
}

/** Every match of `query` across the segments, in reading order. */
export function findMatches(segments: ReadonlyArray<{ text: string }>, query: string): TextMatch[] {
  const matches: TextMatch[] = [];
  segments.forEach((s, segment) => {
    for (const [start, end] of findIn(s.text, query)) matches.push({ segment, start, end });
  });
  return matches;
}

/** `text` with the given ranges (ascending, not overlapping) replaced by `replacement`. */
function replaceRanges(text: string, ranges: ReadonlyArray<{ start: number; end: number }>, replacement: string): string {
  let out = "";
  let at = 0;
  for (const r of ranges) {
    out += text.slice(at, r.start) + replacement;
    at = r.end;
  }
  return out + text.slice(at);
}

/** The corrections (segment id and its whole new text) that replace `matches` with `replacement`. */
export function replacements(
  segments: ReadonlyArray<{ id: number; text: string }>,
  matches: ReadonlyArray<TextMatch>,
  replacement: string,
): Array<{ id: number; text: string }> {
  const bySegment = new Map<number, TextMatch[]>();
  for (const m of matches) bySegment.set(m.segment, [...(bySegment.get(m.segment) ?? []), m]);
  return [...bySegment.entries()]
    .sort(([a], [b]) => a - b)
    .map(([index, ranges]) => {
      const segment = segments[index];
      const sorted = [...ranges].sort((a, b) => a.start - b.start);
      return { id: segment.id, text: replaceRanges(segment.text, sorted, replacement).trim() };
    });
}
