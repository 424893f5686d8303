// The transcript page's text: segments with clickable words, the word playing highlighted, a
// line at a time editable.
//
// An hour of speech is ~9,000 words. Drawn in one go, that is one task of a second or more on
// a modest machine, and highlighting the word playing re-rendered every word each animation
// frame. So the segments are drawn in blocks: the first blocks at once, the rest one block per
// task after it (the page answers in between), and a block renders again only when something
// in it changes (the word playing moves into or within it, its line is edited, names change).
// Offscreen blocks skip layout and paint (content-visibility in styles.css), yet stay in the
// page: find in page, screen readers and Tab reach every word.
import { memo, useEffect, useMemo, useState, type ReactNode } from "react";
import { useI18n } from "../i18n";
import { clock } from "../lib/format";
import type { TextMatch } from "../lib/findReplace";
import { SpeakerTurnLabel, type SpeakerNames } from "./SpeakerLabel";

/** Segments per block, and blocks drawn with the page itself. */
export const BLOCK_SEGMENTS = 20;
const FIRST_BLOCKS = 2;

/** What the text needs of a segment: the transcript page's and the shared page's both fit. */
export interface TextSegment {
  id: number;
  t0: number;
  text: string;
  words?: Array<{ text: string; t0: number }> | null;
  speaker?: string | null;
  edited?: boolean;
}

interface Block<Segment extends TextSegment = TextSegment> {
  segments: Segment[];
  /** Index (across the transcript) of each segment's first word. */
  firstWord: number[];
  /** The word index after this block's last word. */
  end: number;
  start: number;
  /** Index (across the transcript) of the block's first segment. */
  first: number;
  /** The speaker of the segment before the block, for the turn label of its first segment. */
  before: string | null;
}

/** The transcript's segments cut into blocks, with the word offsets the highlight needs. */
export function blocksOf<Segment extends TextSegment>(segments: Segment[], size = BLOCK_SEGMENTS): Block<Segment>[] {
  const blocks: Block<Segment>[] = [];
  let word = 0;
  for (let i = 0; i < segments.length; i += size) {
    const slice = segments.slice(i, i + size);
    const start = word;
    const firstWord = slice.map((s) => {
      const first = word;
      word += s.words?.length ?? 0;
      return first;
    });
    blocks.push({ segments: slice, firstWord, start, first: i, end: word, before: segments[i - 1]?.speaker ?? null });
  }
  return blocks;
}

export interface TranscriptTextProps<Segment extends TextSegment = TextSegment> {
  segments: Segment[];
  names?: SpeakerNames;
  /** Index of the word playing across the transcript, or -1. */
  playing: number;
  onSeek: (time: number) => void;
  /** Editing, where the reader may edit (without `onEdit` the text is read-only). */
  editing?: number | null;
  draft?: string;
  onDraft?: (text: string) => void;
  onEdit?: (segment: Segment) => void;
  onSave?: (segment: Segment) => void;
  onCancel?: () => void;
  /** Find and replace: the matches to highlight, and the index of the current one (or -1). */
  matches?: TextMatch[];
  currentMatch?: number;
}

/** A match as a block draws it: its range in a segment and its index among all matches. */
interface BlockMark {
  segment: number;
  start: number;
  end: number;
  index: number;
}

const NO_MARKS: BlockMark[] = [];

export function TranscriptText<Segment extends TextSegment>({ segments, playing, editing = null, draft = "", matches, currentMatch = -1, ...rest }: TranscriptTextProps<Segment>) {
  const blocks = useMemo(() => blocksOf(segments), [segments]);
  // Each block gets only its own matches (the same empty list when none): a new search re-renders
  // the blocks it touches, not the whole text.
  const marks = useMemo(() => {
    const byBlock: BlockMark[][] = blocks.map(() => NO_MARKS);
    matches?.forEach((m, index) => {
      const b = Math.floor(m.segment / BLOCK_SEGMENTS);
      if (b >= byBlock.length) return;
      if (byBlock[b] === NO_MARKS) byBlock[b] = [];
      byBlock[b].push({ ...m, index });
    });
    return byBlock;
  }, [blocks, matches]);
  const [shown, setShown] = useState(FIRST_BLOCKS);
  useEffect(() => {
    if (shown >= blocks.length) return;
    const timer = setTimeout(() => setShown((n) => n + 1), 0);
    return () => clearTimeout(timer);
  }, [shown, blocks.length]);
  return (
    <>
      {blocks.slice(0, shown).map((block, b) => {
        const edits = editing !== null && block.segments.some((s) => s.id === editing);
        const blockMarks = marks[b] ?? NO_MARKS;
        const current = blockMarks.some((m) => m.index === currentMatch) ? currentMatch : -1;
        return (
          <SegmentBlock
            key={block.segments[0].id}
            block={block}
            playing={playing >= block.start && playing < block.end ? playing : -1}
            editing={edits ? editing : null}
            draft={edits ? draft : ""}
            marks={blockMarks}
            current={current}
            {...(rest as Omit<BlockProps, "block" | "playing" | "editing" | "draft" | "marks" | "current">)}
          />
        );
      })}
    </>
  );
}

type BlockProps = Omit<TranscriptTextProps, "segments" | "matches" | "currentMatch"> & { block: Block; marks: BlockMark[]; current: number };

/** The same block: the same segments (a refetch after an edit keeps unchanged ones identical). */
function sameBlock(a: Block, b: Block): boolean {
  return a.start === b.start && a.before === b.before && a.segments.length === b.segments.length && a.segments.every((s, i) => s === b.segments[i]);
}

function sameProps(a: BlockProps, b: BlockProps): boolean {
  for (const key of Object.keys(a) as Array<keyof BlockProps>) {
    if (key === "block" ? !sameBlock(a.block, b.block) : a[key] !== b[key]) return false;
  }
  return true;
}

const SegmentBlock = memo(function SegmentBlock({ block, names, playing, editing, draft, onDraft, onSeek, onEdit, onSave, onCancel, marks, current }: BlockProps) {
  const { t } = useI18n();
  return (
    <div className="segment-block">
      {block.segments.map((segment, i) => {
        const previous = i > 0 ? block.segments[i - 1].speaker : block.before;
        const segmentMarks = marks.length ? marks.filter((m) => m.segment === block.first + i) : NO_MARKS;
        const spans = segmentMarks.length && segment.words?.length ? wordRanges(segment.text, segment.words) : null;
        return (
          <div key={segment.id} className="segment">
            {segment.speaker && segment.speaker !== previous && <SpeakerTurnLabel label={segment.speaker} names={names} />}
            <button type="button" className="ts link" onClick={() => onSeek(segment.t0)} aria-label={t("detail.seek", { time: clock(segment.t0) })}>
              {clock(segment.t0)}
            </button>
            {editing === segment.id ? (
              <form
                className="inline grow"
                onSubmit={(e) => {
                  e.preventDefault();
                  onSave?.(segment);
                }}
              >
                <label className="visually-hidden" htmlFor={`seg-${segment.id}`}>
                  {t("detail.lineText")}
                </label>
                <textarea id={`seg-${segment.id}`} value={draft} rows={2} autoFocus onChange={(e) => onDraft?.(e.target.value)} />
                <button type="submit" className="primary">
                  {t("common.save")}
                </button>
                <button type="button" onClick={onCancel}>
                  {t("common.cancel")}
                </button>
              </form>
            ) : (
              <>
                <p className="line">
                  {(segment.words?.length && (!segmentMarks.length || spans) ? segment.words : null)?.map((w, k) => {
                    const index = block.firstWord[i] + k;
                    const active = index === playing;
                    return (
                      <span
                        key={index}
                        className={`word clickable${active ? " current" : ""}`}
                        aria-current={active ? "true" : undefined}
                        tabIndex={0}
                        onClick={() => onSeek(w.t0)}
                        onKeyDown={(e) => {
                          if (e.key === "Enter") {
                            e.preventDefault();
                            onSeek(w.t0);
                          }
                        }}
                      >
                        {spans ? marked(w.text, spans[k], segmentMarks, current) : w.text}
                      </span>
                    );
                  }) ?? (segmentMarks.length ? marked(segment.text, 0, segmentMarks, current) : segment.text)}
                  {segment.edited && <small className="badge edited">{t("detail.edited")}</small>}
                </p>
                {onEdit && (
                  <button type="button" className="small-btn" aria-label={t("detail.editLine", { time: clock(segment.t0) })} onClick={() => onEdit(segment)}>
                    {t("detail.edit")}
                  </button>
                )}
              </>
            )}
          </div>
        );
      })}
    </div>
  );
}, sameProps);

/** Where each word's text starts in the segment's text (its leading spaces included), or null
 * when the words do not spell the text (then the line is drawn as text while it has matches). */
export function wordRanges(text: string, words: ReadonlyArray<{ text: string }>): number[] | null {
  const starts: number[] = [];
  let at = 0;
  for (const w of words) {
    const token = w.text.trim();
    const pos = text.indexOf(token, at);
    if (pos < 0) return null;
    starts.push(pos - (w.text.length - w.text.trimStart().length));
    at = pos + token.length;
  }
  return starts;
}

/** `piece` (which starts at `offset` in its segment's text) with the matches in it marked. */
function marked(piece: string, offset: number, marks: BlockMark[], current: number): ReactNode {
  const out: ReactNode[] = [];
  let at = 0;
  for (const m of marks) {
    const start = Math.max(m.start - offset, at);
    const end = Math.min(m.end - offset, piece.length);
    if (end <= start) continue;
    if (start > at) out.push(piece.slice(at, start));
    out.push(
      <mark key={`${m.index}-${start}`} className={`find-match${m.index === current ? " current" : ""}`} data-match={m.index}>
        {piece.slice(start, end)}
      </mark>,
    );
    at = end;
  }
  if (!out.length) return piece;
  if (at < piece.length) out.push(piece.slice(at));
  return out;
}
