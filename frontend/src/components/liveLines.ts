// The live view's words, grouped as they arrive.
//
// An hour of speech is ~9,000 words in ~650 lines. Regrouping all of them on every animation
// frame made the stream slower the longer it ran, so the grouping is incremental: finished
// lines go to an append-only list and never change again; only the words that arrived since
// the last frame are looked at, and only the open line at the end is rebuilt. The same applies
// to the runs of words a live session (Grabar) draws.
import { useMemo, useRef } from "react";
import type { LiveWord } from "../hooks/useEventStream";

/** A new line after this many words, whatever else. */
export const MAX_LINE_WORDS = 14;
/** Lines per block of the live view: a block is drawn and laid out as one piece. */
export const LINES_PER_BLOCK = 20;
/** Words per run of a live session's text. */
export const RUN_WORDS = 64;

/** A word's speaker as the live view shows it (labels that arrived after the words included). */
export type Labeller = (word: LiveWord) => LiveWord;
const asIs: Labeller = (word) => word;

/** Whether `word` starts a new line after `line`: a speaker turn, a pause over 1 s, a sentence end, or a full line. */
export function breaksLine(line: readonly LiveWord[], word: LiveWord): boolean {
  const prev = line[line.length - 1];
  if (!prev) return false;
  return (
    (word.speaker ?? null) !== (prev.speaker ?? null) || word.t0 - prev.t1 > 1 || line.length >= MAX_LINE_WORDS || /[.?!]$/.test(prev.text.trim())
  );
}

export interface LiveLines {
  /** Finished lines, in order: the list only grows and a line in it never changes. */
  closed: LiveWord[][];
  /** The line still growing (a new array each time it changes), or null before the first word. */
  open: LiveWord[] | null;
  /** How many of the stream's words the lines hold. */
  taken: number;
  /** The word list and labeller they were built from: another one means starting over. */
  source: readonly LiveWord[] | null;
  label: Labeller;
}

export const noLines = (label: Labeller = asIs): LiveLines => ({ closed: [], open: null, taken: 0, source: null, label });

/** `lines` with the words from `lines.taken` up to `count` added: work for the new words only.
 * The `closed` list is shared with (appended to in place for) the next state. */
export function extendLines(lines: LiveLines, words: readonly LiveWord[], count: number, label: Labeller = asIs): LiveLines {
  if (words !== lines.source || label !== lines.label || count < lines.taken) {
    lines = { ...noLines(label), source: words };
  }
  if (count === lines.taken) return lines;
  const closed = lines.closed;
  let open = lines.open ? lines.open.slice() : null;
  for (let i = lines.taken; i < count; i++) {
    const word = label(words[i]);
    if (open && breaksLine(open, word)) {
      closed.push(open);
      open = [word];
    } else if (open) open.push(word);
    else open = [word];
  }
  return { closed, open, taken: count, source: words, label };
}

/** Words into readable lines, all at once. */
export function groupLines(words: readonly LiveWord[]): LiveWord[][] {
  const lines = extendLines(noLines(), words, words.length);
  return lines.open ? [...lines.closed, lines.open] : lines.closed;
}

/** The stream's first `count` words as lines, extended frame by frame. */
export function useLiveLines(words: readonly LiveWord[], count: number, label: Labeller = asIs): LiveLines {
  const last = useRef<LiveLines>(noLines(label));
  return useMemo(() => (last.current = extendLines(last.current, words, count, label)), [words, count, label]);
}

/** One block of the live view: lines `from` to `to` (the open line among them when `open` is set). */
export interface LineBlock {
  from: number;
  to: number;
  open: LiveWord[] | null;
}

/** The blocks the lines fall into. The open line keeps its place when it closes (index
 * `closed.length`), so it never moves to another block and its words are not drawn again. */
export function lineBlocks(lines: LiveLines, size = LINES_PER_BLOCK): LineBlock[] {
  const total = lines.closed.length + (lines.open ? 1 : 0);
  const blocks: LineBlock[] = [];
  for (let from = 0; from < total; from += size) {
    const to = Math.min(from + size, total);
    const hasOpen = lines.open !== null && to === total && lines.closed.length < to;
    blocks.push({ from, to, open: hasOpen ? lines.open : null });
  }
  return blocks;
}

export interface WordRuns {
  /** Full runs of RUN_WORDS words: the list only grows and a run in it never changes. */
  full: LiveWord[][];
  source: readonly LiveWord[] | null;
}

/** The first `count` words as runs of `size`: full runs kept from frame to frame, only the tail sliced again. */
export function extendRuns(runs: WordRuns, words: readonly LiveWord[], count: number, size = RUN_WORDS): { runs: WordRuns; all: LiveWord[][] } {
  if (words !== runs.source || runs.full.length * size > count) runs = { full: [], source: words };
  const full = runs.full;
  while ((full.length + 1) * size <= count) full.push(words.slice(full.length * size, (full.length + 1) * size));
  const tail = full.length * size;
  return { runs, all: tail < count ? [...full, words.slice(tail, count)] : full.slice() };
}

/** The stream's first `count` words as runs, extended frame by frame. */
export function useWordRuns(words: readonly LiveWord[], count: number): LiveWord[][] {
  const last = useRef<WordRuns>({ full: [], source: null });
  return useMemo(() => {
    const next = extendRuns(last.current, words, count);
    last.current = next.runs;
    return next.all;
  }, [words, count]);
}
