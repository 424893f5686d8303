import { useRef, useState, type DragEvent } from "react";
import { ApiError, type TranscriptSummary } from "../api/client";
import { useLanguages } from "../api/queries";
import { JobView } from "../components/JobView";
import { OptionsForm } from "../components/OptionsForm";
import { useCurrentJob } from "../hooks/useCurrentJob";
import { useSourceCheck } from "../hooks/useSourceCheck";
import { errorText, useI18n } from "../i18n";
import { bytes, dateTime, isMedia } from "../lib/format";

// Answers that another try cannot change: the file itself is the problem.
const FINAL_UPLOAD_ERRORS = new Set(["file_empty", "unsupported_type", "file_too_large", "quota_exceeded"]);

export function Transcribir({ onOpen }: { onOpen: (id: string) => void }) {
  const { t, locale } = useI18n();
  // The job lives above this screen, so leaving and coming back shows it again.
  const { transcription: job, file, setFile, choices, setChoices } = useCurrentJob();
  const languages = useLanguages();
  const [dragging, setDragging] = useState(false);
  const [pickError, setPickError] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const busy = job.phase === "uploading" || (job.phase === "live" && !["completed", "failed"].includes(job.stream.status));
  // The same file sent twice by accident: the earlier transcript is named before anything goes.
  const source = useSourceCheck(file);
  const [verifying, setVerifying] = useState(false);
  /** An earlier transcript found when "Transcribir" was pressed (shown even if it is the job on screen). */
  const [warned, setWarned] = useState<TranscriptSummary | null>(null);
  /** The earlier transcript the user went ahead over. */
  const [confirmed, setConfirmed] = useState<string | null>(null);
  const earlier =
    warned ?? (source.earlier && source.earlier.id !== confirmed && source.earlier.id !== job.job?.job_id ? source.earlier : null);

  /** Send the file, unless a transcript of it was made that the user has not been warned about. */
  async function send() {
    if (!file) return;
    const seen = earlier?.id ?? null;
    setVerifying(true);
    const facts = await source.verify(file);
    setVerifying(false);
    if (facts.earlier && facts.earlier.id !== seen) {
      setWarned(facts.earlier);
      return;
    }
    setWarned(null);
    setConfirmed(facts.earlier?.id ?? null);
    await job.start(file, file.name, choices, facts.sha256);
  }

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
    setWarned(null);
    setConfirmed(null);
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
          {earlier && !busy && (
            <div className="alert warn duplicate" role="alert">
              <p>
                {t("dup.before", { date: dateTime(earlier.created_at, locale) })}{" "}
                <a
                  href={`/biblioteca/${encodeURIComponent(earlier.id)}`}
                  onClick={(e) => {
                    e.preventDefault();
                    onOpen(earlier.id);
                  }}
                >
                  «{earlier.title || earlier.id}»
                </a>
              </p>
              <p>{t("dup.goOn")}</p>
            </div>
          )}
        </div>
        <OptionsForm value={choices} onChange={setChoices} disabled={busy} languages={languages.data} />
        <div className="actions">
          <button
            type="button"
            className="primary"
            disabled={!file || busy || verifying}
            onClick={() => void send()}
          >
            {job.phase === "uploading" ? t("up.uploading") : verifying ? t("tr.checking") : earlier ? t("tr.again") : t("tr.start")}
          </button>
          {job.phase === "upload-failed" && file && !(job.uploadFailure instanceof ApiError && FINAL_UPLOAD_ERRORS.has(job.uploadFailure.code ?? "")) && (
            <button type="button" onClick={() => void send()}>
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
