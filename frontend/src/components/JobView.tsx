import { useEffect, useRef } from "react";
import type { LiveWord, StreamState } from "../hooks/useEventStream";
import type { Phase } from "../hooks/useTranscription";
import { useI18n } from "../i18n";
import { clock } from "../lib/format";

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
    if (prev && (w.t0 - prev.t1 > 1 || line.length >= 14 || /[.?!]$/.test(prev.text.trim()))) {
      lines.push(line);
      line = [];
    }
    line.push(w);
  }
  if (line.length) lines.push(line);
  return lines;
}

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
  const { t } = useI18n();
  const end = useRef<HTMLDivElement>(null);
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
            {stream.words.length === 0 && stream.status !== "failed" && <p className="muted">{t("job.waiting")}</p>}
            {groupLines(stream.words).map((line) => (
              <p key={line[0].seq} className="live-line">
                <span className="ts">{clock(line[0].t0)}</span>
                <span>
                  {line.map((w) => (
                    <span key={w.seq} className="word" title={`${w.t0.toFixed(2)}–${w.t1.toFixed(2)} s`}>
                      {w.text}
                    </span>
                  ))}
                </span>
              </p>
            ))}
            <div ref={end} />
          </div>
          {stream.status === "completed" && stream.completed && (
            <p className="muted">
              {t("job.detected", { language: stream.completed.language ?? "–", duration: clock(stream.completed.duration) })}
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
