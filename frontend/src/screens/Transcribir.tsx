import { useRef, useState, type DragEvent } from "react";
import { ApiError } from "../api/client";
import { useLanguages } from "../api/queries";
import { JobView } from "../components/JobView";
import { OptionsForm } from "../components/OptionsForm";
import { useCurrentJob } from "../hooks/useCurrentJob";
import { errorText, useI18n } from "../i18n";
import { bytes, isMedia } from "../lib/format";

// Answers that another try cannot change: the file itself is the problem.
const FINAL_UPLOAD_ERRORS = new Set(["file_empty", "unsupported_type", "file_too_large", "quota_exceeded"]);

export function Transcribir({ onOpen }: { onOpen: (id: string) => void }) {
  const { t } = useI18n();
  // The job lives above this screen, so leaving and coming back shows it again.
  const { transcription: job, file, setFile, choices, setChoices } = useCurrentJob();
  const languages = useLanguages();
  const [dragging, setDragging] = useState(false);
  const [pickError, setPickError] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const busy = job.phase === "uploading" || (job.phase === "live" && !["completed", "failed"].includes(job.stream.status));

  function choose(f: File | undefined) {
    if (!f) return;
    if (!isMedia(f)) {
      setPickError(t("tr.notMedia", { name: f.name }));
      return;
    }
    if (f.size === 0) {
      setPickError(t("err.file_empty"));
      return;
    }
    setPickError(null);
    setFile(f);
    job.reset();
  }

  function onDrop(e: DragEvent) {
    e.preventDefault();
    setDragging(false);
    choose(e.dataTransfer.files?.[0]);
  }

  return (
    <main id="main" className="screen">
      <h1>{t("tr.heading")}</h1>
      <section className="card">
        <div
          className={`dropzone${dragging ? " over" : ""}`}
          onDragOver={(e) => {
            e.preventDefault();
            setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={onDrop}
          data-testid="dropzone"
        >
          <p className="drop-title">{t("tr.drop")}</p>
          <p className="muted">{t("tr.or")}</p>
          <button type="button" onClick={() => input.current?.click()} disabled={busy}>
            {t("tr.pick")}
          </button>
          <input
            ref={input}
            type="file"
            accept="audio/*,video/*,.opus,.m4a,.flac,.mkv"
            className="visually-hidden"
            aria-label={t("tr.pick")}
            onChange={(e) => {
              choose(e.target.files?.[0]);
              e.target.value = "";
            }}
          />
          {file && <p className="chosen">{t("tr.chosen", { name: file.name, size: bytes(file.size) })}</p>}
          {pickError && (
            <p className="alert error" role="alert">
              {pickError}
            </p>
          )}
        </div>
        <OptionsForm value={choices} onChange={setChoices} disabled={busy} languages={languages.data} />
        <div className="actions">
          <button
            type="button"
            className="primary"
            disabled={!file || busy}
            onClick={() => file && job.start(file, file.name, choices)}
          >
            {job.phase === "uploading" ? t("up.uploading") : t("tr.start")}
          </button>
          {job.phase === "upload-failed" && file && !(job.uploadFailure instanceof ApiError && FINAL_UPLOAD_ERRORS.has(job.uploadFailure.code ?? "")) && (
            <button type="button" onClick={() => job.start(file, file.name, choices)}>
              {t("common.retry")}
            </button>
          )}
        </div>
      </section>
      <JobView
        phase={job.phase}
        uploadProgress={job.uploadProgress}
        uploadError={job.uploadFailure ? errorText(job.uploadFailure, t) : job.uploadError}
        stream={job.stream}
        jobId={job.job?.job_id ?? null}
        onOpen={onOpen}
      />
    </main>
  );
}
