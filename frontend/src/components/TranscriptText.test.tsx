import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { findMatches } from "../lib/findReplace";
import { BLOCK_SEGMENTS, blocksOf, TranscriptText, wordRanges, type TextSegment } from "./TranscriptText";

/** `n` segments of three words each, a second apart; speakers alternate every 7 segments. */
function transcript(n: number): TextSegment[] {
  return Array.from({ length: n }, (_, id) => ({
    id,
    t0: id,
    text: ` w${id}a w${id}b w${id}c`,
    speaker: Math.floor(id / 7) % 2 ? "S2" : "S1",
    words: ["a", "b", "c"].map((x, k) => ({ text: ` w${id}${x}`, t0: id + k * 0.3 })),
  }));
}

describe("blocksOf", () => {
  it("cuts segments into blocks that know their words' place in the whole transcript", () => {
    const blocks = blocksOf(transcript(45));
    expect(blocks.map((b) => b.segments.length)).toEqual([BLOCK_SEGMENTS, BLOCK_SEGMENTS, 5]);
    expect(blocks[1].start).toBe(BLOCK_SEGMENTS * 3);
    expect(blocks[1].firstWord[2]).toBe((BLOCK_SEGMENTS + 2) * 3);
    expect(blocks[2].end).toBe(45 * 3);
    expect(blocks[1].before).toBe(transcript(45)[BLOCK_SEGMENTS - 1].speaker);
  });
});

describe("TranscriptText", () => {
  it("draws a long transcript a few blocks at a time until every word is there", async () => {
    const segments = transcript(300);
    render(<TranscriptText segments={segments} playing={-1} onSeek={() => {}} />);
    const first = document.querySelectorAll(".word.clickable").length;
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThan(900);
    await waitFor(() => expect(document.querySelectorAll(".word.clickable")).toHaveLength(900), { timeout: 10_000 });
    // Read-only: no edit buttons; a speaker label at each turn, also across blocks.
    expect(screen.queryByRole("button", { name: /Corregir la línea/ })).toBeNull();
    expect(document.querySelectorAll(".speaker-label")).toHaveLength(Math.ceil(300 / 7));
  });

  it("marks the word playing and seeks from a word by click or Enter", async () => {
    const onSeek = vi.fn();
    const segments = transcript(60);
    const { rerender } = render(<TranscriptText segments={segments} playing={-1} onSeek={onSeek} />);
    await waitFor(() => expect(document.querySelectorAll(".word.clickable")).toHaveLength(180), { timeout: 10_000 });
    rerender(<TranscriptText segments={segments} playing={3 * 45 + 1} onSeek={onSeek} />);
    const current = document.querySelectorAll(".word.current");
    expect(current).toHaveLength(1);
    expect(current[0]).toHaveTextContent("w45b");
    expect(current[0]).toHaveAttribute("aria-current", "true");
    fireEvent.click(screen.getByText("w50c"));
    expect(onSeek).toHaveBeenLastCalledWith(50.6);
    fireEvent.keyDown(screen.getByText("w51a"), { key: "Enter" });
    expect(onSeek).toHaveBeenLastCalledWith(51);
  });

  it("edits one line where an editor is given", async () => {
    const onEdit = vi.fn();
    const onSave = vi.fn();
    const segments = transcript(30);
    const props = { segments, playing: -1, onSeek: () => {}, onEdit, onSave, onDraft: () => {}, onCancel: () => {} };
    const { rerender } = render(<TranscriptText {...props} editing={null} />);
    await waitFor(() => expect(screen.getAllByRole("button", { name: /Corregir la línea/ })).toHaveLength(30), { timeout: 10_000 });
    fireEvent.click(screen.getAllByRole("button", { name: /Corregir la línea/ })[25]);
    expect(onEdit).toHaveBeenCalledWith(segments[25]);
    rerender(<TranscriptText {...props} editing={25} draft="w25 corregido" />);
    expect(screen.getByRole("textbox")).toHaveValue("w25 corregido");
    fireEvent.click(screen.getByRole("button", { name: "Guardar" }));
    expect(onSave).toHaveBeenCalledWith(segments[25]);
  });

  it("marks find matches inside the words, the current one apart, in every block", async () => {
    const segments = transcript(45);
    const matches = findMatches(segments, "W4"); // w4a..w4c and w40a..w44c
    expect(matches).toHaveLength(3 + 5 * 3);
    render(<TranscriptText segments={segments} playing={-1} onSeek={() => {}} matches={matches} currentMatch={4} />);
    await waitFor(() => expect(document.querySelectorAll("mark.find-match")).toHaveLength(18), { timeout: 10_000 });
    const current = document.querySelectorAll("mark.find-match.current");
    expect(current).toHaveLength(1);
    expect(current[0]).toHaveTextContent("w4");
    expect(current[0].closest(".word")).toHaveTextContent("w40b");
    // The words stay whole and clickable around their marks.
    expect(document.querySelectorAll(".word.clickable")).toHaveLength(45 * 3);
  });

  it("places words in their segment's text, or gives up when they do not spell it", () => {
    expect(wordRanges(" Ask not what", [{ text: " Ask" }, { text: " not" }, { text: " what" }])).toEqual([0, 4, 8]);
    expect(wordRanges(" Ask not", [{ text: " Ask" }, { text: " nada" }])).toBeNull();
  });
});
