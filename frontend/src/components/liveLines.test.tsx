import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { initialStreamState, type LiveWord, type StreamState } from "../hooks/useEventStream";
import { JobView } from "./JobView";
import { extendLines, extendRuns, groupLines, lineBlocks, LINES_PER_BLOCK, noLines, type LiveLines } from "./liveLines";

/** `n` words of a speech: sentence ends, pauses and speaker turns now and then. */
function speech(n: number, speakers = false): LiveWord[] {
  const words: LiveWord[] = [];
  let t = 0;
  for (let i = 0; i < n; i++) {
    t += i % 23 === 0 ? 1.5 : 0.1;
    const text = ` w${i}${i % 9 === 8 ? "." : ""}`;
    words.push({ seq: i * 2, text, t0: t, t1: t + 0.3, speaker: speakers ? (Math.floor(i / 31) % 2 ? "S2" : "S1") : null });
    t += 0.3;
  }
  return words;
}

const all = (lines: LiveLines) => (lines.open ? [...lines.closed, lines.open] : lines.closed);

describe("live lines, grouped as words arrive", () => {
  it("gives the same lines as grouping everything at once, whatever the batches", () => {
    const words = speech(700, true);
    const whole = groupLines(words);
    for (const batch of [1, 3, 17, 250]) {
      let lines = noLines();
      for (let count = 0; count < words.length; count = Math.min(words.length, count + batch)) lines = extendLines(lines, words, count);
      lines = extendLines(lines, words, words.length);
      expect(all(lines)).toEqual(whole);
    }
    expect(whole.every((line) => line.length <= 14 && line.every((w) => w.speaker === line[0].speaker))).toBe(true);
  });

  it("keeps finished lines as they were and looks only at the new words", () => {
    const words = speech(100);
    const before = extendLines(noLines(), words, 60);
    const finished = before.closed.slice();
    const open = before.open;
    const after = extendLines(before, words, 61);
    expect(after.closed.slice(0, finished.length).every((line, i) => line === finished[i])).toBe(true);
    expect(before.open).toBe(open); // the earlier open line is not changed in place
    expect(after.taken).toBe(61);
    expect(extendLines(after, words, 61)).toBe(after); // nothing new: the same lines
  });

  it("starts over for another stream, another labeller, or fewer words", () => {
    const words = speech(40);
    const lines = extendLines(noLines(), words, 40);
    expect(extendLines(lines, speech(40), 40).closed).not.toBe(lines.closed);
    const label = (w: LiveWord) => ({ ...w, speaker: w.t0 < 5 ? "S1" : "S2" });
    const labelled = extendLines(lines, words, 40, label);
    expect(all(labelled).flat().every((w) => w.speaker)).toBe(true);
    expect(all(extendLines(labelled, words, 10, label)).flat()).toHaveLength(10);
  });

  it("puts the open line in the block it will stay in once finished", () => {
    const words = speech(600);
    let lines = noLines();
    const blockOf = new Map<number, number>();
    for (let count = 1; count <= words.length; count += 7) {
      lines = extendLines(lines, words, count);
      for (const block of lineBlocks(lines)) {
        expect(block.to - block.from).toBeLessThanOrEqual(LINES_PER_BLOCK);
        for (let i = block.from; i < block.to; i++) {
          const line = i < lines.closed.length ? lines.closed[i] : block.open;
          expect(line).toBeTruthy();
          const seen = blockOf.get(line![0].seq);
          if (seen !== undefined) expect(seen).toBe(block.from);
          blockOf.set(line![0].seq, block.from);
        }
      }
    }
    expect(lineBlocks(lines).filter((b) => b.open)).toHaveLength(lines.open ? 1 : 0);
  });

  it("cuts runs of words, keeping the full ones from frame to frame", () => {
    const words = speech(200);
    const first = extendRuns({ full: [], source: null }, words, 130, 64);
    expect(first.all.map((r) => r.length)).toEqual([64, 64, 2]);
    const next = extendRuns(first.runs, words, 140, 64);
    expect(next.all[0]).toBe(first.all[0]);
    expect(next.all[2]).toHaveLength(12);
  });
});

describe("the live view of a long job", () => {
  const stream = (words: LiveWord[], count: number): StreamState => ({ ...initialStreamState, status: "open", words, wordCount: count, lastSeq: count * 2 });

  it("draws every line in blocks, with speaker turns across blocks, and only the words the state holds", () => {
    const words = speech(900, true);
    const { rerender, container } = render(<JobView phase="live" uploadProgress={0} uploadError={null} stream={stream(words, 500)} jobId="J" />);
    const lines = groupLines(words.slice(0, 500));
    expect(container.querySelectorAll(".live-block")).toHaveLength(Math.ceil(lines.length / LINES_PER_BLOCK));
    expect(container.querySelectorAll(".live-line")).toHaveLength(lines.length);
    expect(container.querySelectorAll(".live-words .word")).toHaveLength(500);
    const turns = lines.filter((line, i) => line[0].speaker !== lines[i - 1]?.[0].speaker).length;
    expect(container.querySelectorAll(".speaker-turn")).toHaveLength(turns);
    const firstBlock = container.querySelector(".live-block");
    rerender(<JobView phase="live" uploadProgress={0} uploadError={null} stream={stream(words, 900)} jobId="J" />);
    expect(container.querySelector(".live-block")).toBe(firstBlock);
    expect(container.querySelectorAll(".live-words .word")).toHaveLength(900);
    expect(screen.getByText("w898")).toBeInTheDocument();
    const all900 = groupLines(words);
    expect(container.querySelectorAll(".speaker-turn")).toHaveLength(all900.filter((line, i) => line[0].speaker !== all900[i - 1]?.[0].speaker).length);
  });
});
