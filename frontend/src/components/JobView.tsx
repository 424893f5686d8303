import { memo, useEffect, useMemo, useRef } from "react";
import type { LiveWord, StreamState } from "../hooks/useEventStream";
import type { Phase } from "../hooks/useTranscription";
import { languageName, useI18n } from "../i18n";
import { clock } from "../lib/format";
import { lineBlocks, useLiveLines, type Labeller } from "./liveLines";
import { SpeakerTurnLabel, speakerAt, useCompletedSpeakers, type SpeakerNames } from "./SpeakerLabel";

export { groupLines } from "./liveLines";

export function ProgressBar({ value, label }: { value: number; label: string }) {
  const pct = Math.round(Math.max(0, Math.min(1, value)) * 100);
  return (
    <div className="progress">
      <div className="progress-label">
        <span>{label}</span>
        <span>{pct}%</span>
      </div>
      <div className="bar" role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct}>
        <div className="fill" style={{ width: `${pct}%` }} />
      </div>
    </div>
  );
}

/** One line of live words. Words never change once they arrived, so a line is drawn again
 * only when it grows or its speaker label changes. */
const LiveLine = memo(
  function LiveLine({ line, turn, names }: { line: LiveWord[]; turn: boolean; names: SpeakerNames }) {
    const first = line[0];
    return (
      <p className="live-line">
        {turn && first.speaker && <SpeakerTurnLabel label={first.speaker} names={names} />}
        <span className="ts">{clock(first.t0)}</span>
        <span>
          {line.map((w) => (
            <span key={w.seq} className="word" title={`${w.t0.toFixed(2)}–${w.t1.toFixed(2)} s`}>
              {w.text}
            </span>
          ))}
        </span>
      </p>
    );
  },
  (a, b) =>
    a.line.length === b.line.length &&
    a.line[a.line.length - 1] === b.line[b.line.length - 1] &&
    a.line[0].speaker === b.line[0].speaker &&
    a.turn === b.turn &&
    a.names === b.names,
);

/** Lines `from` to `to` of the live view, the open line last when it is among them. Finished
 * lines never change, so a block renders again only while it holds the open line (or names
 * change): each frame draws one block, however long the transcript. Offscreen blocks skip
 * layout and paint (content-visibility in styles.css). */
const LiveBlock = memo(function LiveBlock({
  closed,
  from,
  to,
  open,
  names,
}: {
  closed: LiveWord[][];
  from: number;
  to: number;
  open: LiveWord[] | null;
  names: SpeakerNames;
}) {
  const rows = [];
  let before = closed[from - 1]?.[0].speaker;
  for (let i = from; i < to; i++) {
    const line = i < closed.length ? closed[i] : open;
    if (!line) break;
    rows.push(<LiveLine key={line[0].seq} line={line} turn={line[0].speaker !== before} names={names} />);
    before = line[0].speaker;
  }
  return <div className="live-block">{rows}</div>;
});

/** Upload progress, then the live words with their timestamps and the job's progress. */
export function JobView({
  phase,
  uploadProgress,
  uploadError,
  stream,
  jobId,
  onOpen,
}: {
  phase: Phase;
  uploadProgress: number;
  uploadError: string | null;
  stream: StreamState;
  jobId: string | null;
  onOpen?: (id: string) => void;
}) {
  const { t, locale } = useI18n();
  const end = useRef<HTMLDivElement>(null);
  // Speakers: on the deltas when the worker sends them, else from the stored transcript once completed.
  const speakers = useCompletedSpeakers(jobId, stream.status === "completed" && !stream.hasSpeakers);
  const label = useMemo<Labeller | undefined>(
    () => (speakers.turns.length ? (w) => (w.speaker ? w : { ...w, speaker: speakerAt(speakers.turns, (w.t0 + w.t1) / 2) }) : undefined),
    [speakers.turns],
  );
  const lines = useLiveLines(stream.words, stream.wordCount, label);
  const blocks = useMemo(() => lineBlocks(lines), [lines]);
  const words = stream.wordCount;
  useEffect(() => {
    end.current?.scrollIntoView?.({ block: "nearest" });
  }, [words]);
  if (phase === "idle") return null;
  return (
    <section className="card job" aria-labelledby="job-heading">
      <h2 id="job-heading">{t("job.words")}</h2>
      {(phase === "uploading" || phase === "upload-failed" || uploadProgress > 0) && (
        <ProgressBar value={uploadProgress} label={t("job.uploadProgress")} />
      )}
      {phase === "upload-failed" && uploadError && (
        <p className="alert error" role="alert">
          {t("up.failed", { detail: uploadError })}
        </p>
      )}
      {phase === "live" && (
        <>
          <ProgressBar value={stream.progress} label={t("job.progress")} />
          <p className="status-line" role="status" aria-live="polite">
            {stream.status === "completed"
              ? t("job.done")
              : stream.status === "failed"
                ? ""
                : stream.status === "reconnecting"
                  ? t("job.reconnecting")
                  : words
                    ? `${t("job.live")} · ${clock(stream.processedS)}${stream.durationS ? ` / ${clock(stream.durationS)}` : ""}`
                    : t("job.queued")}
          </p>
          {stream.status === "failed" && (
            <p className="alert error" role="alert">
              {t("job.failed", { detail: stream.error ?? "" })}
            </p>
          )}
          <div className="live-words" data-testid="live-words" aria-live="off">
            {words === 0 && stream.status === "completed" && <p className="muted">{t("job.noSpeech")}</p>}
            {words === 0 && stream.status !== "failed" && stream.status !== "completed" && <p className="muted">{t("job.waiting")}</p>}
            {blocks.map((block) => (
              <LiveBlock key={block.from} closed={lines.closed} from={block.from} to={block.to} open={block.open} names={speakers.names} />
            ))}
            <div ref={end} />
          </div>
          {stream.status === "completed" && stream.completed && words > 0 && (
            <p className="muted">
              {t("job.detected", { language: languageName(stream.completed.language, locale) || "–", duration: clock(stream.completed.duration) })}
            </p>
          )}
          {stream.status === "completed" && jobId && onOpen && (
            <button type="button" className="primary" onClick={() => onOpen(jobId)}>
              {t("job.open")}
            </button>
          )}
        </>
      )}
    </section>
  );
}
