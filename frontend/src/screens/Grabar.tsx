import { useEffect, useState } from "react";
import { saveBlob } from "../api/client";
import { defaultChoices, type TranscribeChoices } from "../api/upload";
import { JobView } from "../components/JobView";
import { OptionsForm } from "../components/OptionsForm";
import { useRecorder, type Recording } from "../hooks/useRecorder";
import { useTranscription } from "../hooks/useTranscription";
import { useI18n, type MessageKey } from "../i18n";
import { clock } from "../lib/format";
import { forgetRecording, keepRecording, pendingRecordings, type PendingRecording } from "../lib/pendingRecordings";

const ERRORS: Record<string, MessageKey> = {
  denied: "rec.denied",
  "no-device": "rec.noDevice",
  unsupported: "rec.unsupported",
  insecure: "rec.insecure",
  other: "rec.noDevice",
};

export function LevelMeter({ level, label }: { level: number; label: string }) {
  const pct = Math.round(level * 100);
  return (
    <div className="meter" role="meter" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct}>
      <div className="meter-fill" style={{ width: `${pct}%` }} />
    </div>
  );
}

export function Grabar({ onOpen }: { onOpen: (id: string) => void }) {
  const { t } = useI18n();
  const rec = useRecorder();
  const job = useTranscription();
  const [choices, setChoices] = useState<TranscribeChoices>(defaultChoices);
  const [recording, setRecording] = useState<(Recording & { id: string }) | null>(null);
  const [pending, setPending] = useState<PendingRecording[]>([]);
  const active = rec.state === "recording" || rec.state === "paused";
  const unsent = recording !== null && job.phase === "upload-failed";

  // Never lose a recording silently: warn before leaving while one is unsent.
  useEffect(() => {
    if (!unsent && !active) return;
    const warn = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      e.returnValue = "";
    };
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [unsent, active]);

  // Recordings a closed tab or a failed upload left behind, from this browser's storage.
  useEffect(() => {
    pendingRecordings().then(setPending, () => setPending([]));
  }, []);

  /** Upload a kept recording; once the upload has succeeded it is no longer kept. */
  async function send(item: { id: string; blob: Blob; filename: string }) {
    if (await job.start(item.blob, item.filename, choices)) {
      await forgetRecording(item.id).catch(() => undefined);
      setPending((list) => list.filter((p) => p.id !== item.id));
    }
  }

  async function stopAndSend() {
    const result = await rec.stop();
    if (!result) return;
    const kept = { ...result, id: crypto.randomUUID() };
    setRecording(kept);
    // Stored before the upload starts, so nothing between here and S3 can lose it.
    await keepRecording({ ...kept, createdAt: Date.now() }).catch(() => undefined);
    await send(kept);
  }

  async function discard(item: PendingRecording) {
    if (!window.confirm(t("rec.discardConfirm"))) return;
    await forgetRecording(item.id).catch(() => undefined);
    setPending((list) => list.filter((p) => p.id !== item.id));
  }

  function startNew() {
    setRecording(null);
    job.reset();
    rec.reset();
    void rec.start();
  }

  return (
    <main id="main" className="screen">
      <h1>{t("rec.heading")}</h1>
      <section className="card recorder">
        {rec.error && (
          <p className="alert error" role="alert">
            {t(ERRORS[rec.error])}
          </p>
        )}
        <div className="rec-panel">
          <div className={`rec-dot${rec.state === "recording" ? " on" : ""}`} aria-hidden="true" />
          <div className="rec-time" role="timer" aria-label={t("rec.elapsed")}>
            {clock(rec.elapsed)}
          </div>
          <span className="muted" aria-live="polite">
            {rec.state === "recording" ? t("rec.recording") : rec.state === "paused" ? t("rec.paused") : ""}
          </span>
        </div>
        <LevelMeter level={rec.level} label={t("rec.level")} />
        {rec.mimeType && <p className="muted small">{t("rec.format", { format: rec.mimeType })}</p>}
        <div className="actions">
          {!active && rec.state !== "stopped" && (
            <button type="button" className="primary" onClick={() => void rec.start()} disabled={rec.state === "requesting"}>
              {t("rec.start")}
            </button>
          )}
          {rec.state === "recording" && (
            <button type="button" onClick={rec.pause}>
              {t("rec.pause")}
            </button>
          )}
          {rec.state === "paused" && (
            <button type="button" onClick={rec.resume}>
              {t("rec.resume")}
            </button>
          )}
          {active && (
            <button type="button" className="primary" onClick={() => void stopAndSend()}>
              {t("rec.stop")}
            </button>
          )}
          {rec.state === "stopped" && job.phase !== "uploading" && (
            <button type="button" onClick={startNew}>
              {t("rec.new")}
            </button>
          )}
        </div>
        {unsent && recording && (
          <div className="alert warn" role="alert">
            <p>{t("rec.failedKept")}</p>
            <div className="actions">
              <button type="button" className="primary" onClick={() => void send(recording)}>
                {t("common.retry")}
              </button>
              <button type="button" onClick={() => saveBlob(recording.blob, recording.filename)}>
                {t("rec.download")}
              </button>
            </div>
          </div>
        )}
        {pending.filter((p) => p.id !== recording?.id).length > 0 && (
          <div className="pending" aria-label={t("rec.pending")}>
            <h2 className="small-title">{t("rec.pending")}</h2>
            <ul>
              {pending
                .filter((p) => p.id !== recording?.id)
                .map((p) => (
                  <li key={p.id}>
                    <span>
                      {new Date(p.createdAt).toLocaleString()} · {clock(p.seconds)}
                    </span>
                    <button type="button" className="small-btn" onClick={() => void send(p)} disabled={job.phase === "uploading"}>
                      {t("rec.sendPending")}
                    </button>
                    <button type="button" className="small-btn" onClick={() => saveBlob(p.blob, p.filename)}>
                      {t("rec.download")}
                    </button>
                    <button type="button" className="small-btn" onClick={() => void discard(p)}>
                      {t("rec.discard")}
                    </button>
                  </li>
                ))}
            </ul>
          </div>
        )}
        <details className="more-options">
          <summary>{t("opts.profile")} · {t("opts.language")} · {t("opts.title")}</summary>
          <OptionsForm value={choices} onChange={setChoices} disabled={active || job.phase === "uploading"} />
        </details>
      </section>
      <JobView
        phase={job.phase}
        uploadProgress={job.uploadProgress}
        uploadError={job.uploadError}
        stream={job.stream}
        jobId={job.job?.job_id ?? null}
        onOpen={onOpen}
      />
    </main>
  );
}
