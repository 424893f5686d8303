import { memo, useEffect, useMemo, useRef } from "react";
import type { LiveWord, StreamState } from "../hooks/useEventStream";
import type { Phase } from "../hooks/useTranscription";
import { languageName, useI18n } from "../i18n";
import { clock } from "../lib/format";
import { SpeakerTurnLabel, speakerAt, useCompletedSpeakers, type SpeakerNames } from "./SpeakerLabel";

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

/** Words into readable lines: a new line after a pause, a sentence end, or 14 words. */
export function groupLines(words: LiveWord[]): LiveWord[][] {
  const lines: LiveWord[][] = [];
  let line: LiveWord[] = [];
  for (const w of words) {
    const prev = line[line.length - 1];
    const turn = (w.speaker ?? null) !== (prev?.speaker ?? null);
    if (prev && (turn || w.t0 - prev.t1 > 1 || line.length >= 14 || /[.?!]$/.test(prev.text.trim()))) {
      lines.push(line);
      line = [];
    }
    line.push(w);
  }
  if (line.length) lines.push(line);
  return lines;
}

/** One line of live words. Words never change once they arrived, so a line is drawn again
 * only when it grows or its speaker label changes: an hour's stream re-renders its last line,
 * not thousands of words, per frame. */
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
  const speakers = useCompletedSpeakers(jobId, stream.status === "completed" && !stream.words.some((w) => w.speaker));
  const words = useMemo(
    () => (speakers.turns.length ? stream.words.map((w) => ({ ...w, speaker: w.speaker ?? speakerAt(speakers.turns, (w.t0 + w.t1) / 2) })) : stream.words),
    [speakers.turns, stream.words],
  );
  const lines = useMemo(() => groupLines(words), [words]);
  useEffect(() => {
    end.current?.scrollIntoView?.({ block: "nearest" });
  }, [stream.words.length]);
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
                  : stream.words.length
                    ? `${t("job.live")} · ${clock(stream.processedS)}${stream.durationS ? ` / ${clock(stream.durationS)}` : ""}`
                    : t("job.queued")}
          </p>
          {stream.status === "failed" && (
            <p className="alert error" role="alert">
              {t("job.failed", { detail: stream.error ?? "" })}
            </p>
          )}
          <div className="live-words" data-testid="live-words" aria-live="off">
            {stream.words.length === 0 && stream.status === "completed" && <p className="muted">{t("job.noSpeech")}</p>}
            {stream.words.length === 0 && stream.status !== "failed" && stream.status !== "completed" && <p className="muted">{t("job.waiting")}</p>}
            {lines.map((line, i) => (
              <LiveLine key={line[0].seq} line={line} turn={line[0].speaker !== lines[i - 1]?.[0].speaker} names={speakers.names} />
            ))}
            <div ref={end} />
          </div>
          {stream.status === "completed" && stream.completed && stream.words.length > 0 && (
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
