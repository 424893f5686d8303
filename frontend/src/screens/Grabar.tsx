import { useCallback, useEffect, useRef, useState } from "react";
import { api, saveBlob, unwrap, type TranscriptDetail } from "../api/client";
import type { LiveOptions } from "../api/live";
import { defaultChoices, type TranscribeChoices } from "../api/upload";
import { useLanguages } from "../api/queries";
import { JobView } from "../components/JobView";
import { LiveTranscript } from "../components/LiveTranscript";
import { defaultFinalPass, OptionsForm } from "../components/OptionsForm";
import { useLiveRecorder } from "../hooks/useLiveRecorder";
import { liveStore, recordingsInUse, useLiveSession } from "../hooks/useLiveSession";
import { useTranscription } from "../hooks/useTranscription";
import { errorText, useI18n, type MessageKey } from "../i18n";
import { clock } from "../lib/format";
import { discardRecording } from "../lib/liveSession";
import type { LiveRecord } from "../lib/liveStore";
import { forgetRecording, pendingRecordings, type PendingRecording } from "../lib/pendingRecordings";
import { wavBlob } from "../lib/wav";

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

/** The options a live session takes, from the form's. */
export function liveOptions(choices: TranscribeChoices): LiveOptions {
  const tags = choices.tags
    .split(",")
    .map((t) => t.trim())
    .filter(Boolean);
  return {
    ...(choices.language ? { language: choices.language } : {}),
    profile: choices.profile,
    ...(choices.title.trim() ? { title: choices.title.trim() } : {}),
    ...(tags.length ? { tags } : {}),
    diarization: choices.diarization,
    ...(choices.hotwords.trim() ? { hotwords: choices.hotwords.trim() } : {}),
    ...(choices.initial_prompt.trim() ? { initial_prompt: choices.initial_prompt.trim() } : {}),
    ...(choices.translate ? { task: "translate" as const } : {}),
    final_pass: choices.final_pass ?? defaultFinalPass(choices),
  };
}

/** The upload options for a live recording that goes up as a file instead. */
function uploadChoices(options: LiveOptions): TranscribeChoices {
  return {
    ...defaultChoices,
    language: options.language ?? "",
    profile: options.profile ?? defaultChoices.profile,
    diarization: options.diarization ?? false,
    title: options.title ?? "",
    tags: (options.tags ?? []).join(", "),
    hotwords: options.hotwords ?? "",
    initial_prompt: options.initial_prompt ?? "",
    translate: options.task === "translate",
  };
}

function wavName(createdAt: number): string {
  const stamp = new Date(createdAt).toISOString().slice(0, 16).replace("T", "-").replace(":", "");
  return `grabacion-${stamp}.wav`;
}

export function Grabar({ onOpen }: { onOpen: (id: string) => void }) {
  const { t } = useI18n();
  const rec = useLiveRecorder();
  const live = useLiveSession();
  const job = useTranscription();
  const store = liveStore();
  const [choices, setChoices] = useState<TranscribeChoices>(defaultChoices);
  const languages = useLanguages();
  const [pending, setPending] = useState<PendingRecording[]>([]);
  const [unfinished, setUnfinished] = useState<LiveRecord[]>([]);
  const [uploading, setUploading] = useState<{ key: string; options: LiveOptions; createdAt: number } | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const stopping = useRef(false);
  const active = rec.state === "recording" || rec.state === "paused";
  const unsent = active || live.phase === "sending" || job.phase === "uploading" || (uploading !== null && job.phase === "upload-failed");
  const session = live.status?.session ?? null;

  // Leaving mid-recording keeps the frames in this browser, but the transcript would wait for a return.
  useEffect(() => {
    if (!unsent) return;
    const warn = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      e.returnValue = t("live.leave");
    };
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [unsent, t]);

  // What a closed tab, a reload or a failed upload left behind in this browser.
  useEffect(() => {
    let cancelled = false;
    pendingRecordings().then(
      (list) => !cancelled && setPending(list),
      () => undefined,
    );
    void (async () => {
      const records = await store.records().catch(() => [] as LiveRecord[]);
      const inUse = await recordingsInUse();
      const keep: LiveRecord[] = [];
      for (const record of records) {
        if (inUse.has(record.key)) continue; // being recorded or sent in another tab
        if (record.discarded) {
          await discardRecording(record, store); // discarded while offline: the server is told now
          continue;
        }
        const stored = await store.count(record.key).catch(() => record.frames);
        if (stored === 0 && record.acked === 0) {
          await store.forget(record.key).catch(() => undefined); // nothing was recorded
          continue;
        }
        if (record.stopSent && record.liveId) {
          try {
            const detail = await unwrap<TranscriptDetail>(
              api.GET("/transcripts/{transcript_id}", { params: { path: { transcript_id: record.liveId } } }),
            );
            if (detail.status === "completed") {
              await store.forget(record.key).catch(() => undefined); // finished while the page was away
              continue;
            }
          } catch {
            /* offline or unknown: offer it */
          }
        }
        keep.push({ ...record, frames: Math.max(record.frames, stored) });
      }
      if (!cancelled) setUnfinished(keep);
    })();
    return () => {
      cancelled = true;
    };
  }, [store]);

  /** Upload a recording's stored frames as one WAV file (its live session ended without them). */
  const upload = useCallback(
    async (item: { key: string; options: LiveOptions; createdAt: number }) => {
      setUploading(item);
      const frames = await store.frames(item.key).catch(() => [] as ArrayBuffer[]);
      if (await job.start(wavBlob(frames), wavName(item.createdAt), uploadChoices(item.options))) {
        await live.forget(item.key);
        setUploading(null);
      }
    },
    [store, job, live],
  );

  async function start() {
    setNotice(null);
    job.reset();
    live.reset();
    setUploading(null);
    if (await rec.start(live.push)) live.begin(liveOptions(choices));
  }

  const stop = useCallback(async () => {
    if (stopping.current) return;
    stopping.current = true;
    try {
      await rec.stop();
      const key = live.key;
      const result = await live.finish();
      if (result === "upload" && key) {
        setNotice(t("live.uploadInstead"));
        await upload({ key, options: liveOptions(choices), createdAt: Date.now() });
      }
    } finally {
      stopping.current = false;
    }
  }, [rec, live, upload, choices, t]);

  async function sendRest(record: LiveRecord) {
    setUnfinished((list) => list.filter((r) => r.key !== record.key));
    setNotice(null);
    job.reset();
    setUploading(null);
    const result = await live.recover(record);
    if (result === "upload") {
      setNotice(t("live.uploadInstead"));
      await upload({ key: record.key, options: record.options, createdAt: record.createdAt });
    }
  }

  /** "Descartar" on a recording left unfinished: its session is cancelled on the server too. */
  async function discardLive(record: LiveRecord) {
    if (!window.confirm(t("rec.discardConfirm"))) return;
    setUnfinished((list) => list.filter((r) => r.key !== record.key));
    if ((await live.discard(record)) === "pending") setNotice(t("rec.discardPending"));
  }

  /** "Descartar" while recording: the recorder stops, the session is cancelled, nothing is kept. */
  async function discardCurrent() {
    if (!window.confirm(t("rec.discardConfirm"))) return;
    await rec.stop();
    rec.reset();
    setNotice(null);
    if ((await live.discard()) === "pending") setNotice(t("rec.discardPending"));
  }

  async function downloadLive(record: { key: string; createdAt: number }) {
    saveBlob(wavBlob(await store.frames(record.key)), wavName(record.createdAt));
  }

  /** Upload a recording kept by an earlier version of this page; forgotten once uploaded. */
  async function sendPending(item: PendingRecording) {
    if (await job.start(item.blob, item.filename, choices)) {
      await forgetRecording(item.id).catch(() => undefined);
      setPending((list) => list.filter((p) => p.id !== item.id));
    }
  }

  async function discardPending(item: PendingRecording) {
    if (!window.confirm(t("rec.discardConfirm"))) return;
    await forgetRecording(item.id).catch(() => undefined);
    setPending((list) => list.filter((p) => p.id !== item.id));
  }

  function startNew() {
    setNotice(null);
    setUploading(null);
    job.reset();
    live.reset();
    rec.reset();
  }

  // A session has a maximum length: stop there rather than have the server refuse the rest.
  useEffect(() => {
    if (session && rec.state === "recording" && rec.elapsed >= session.max_seconds) {
      setNotice(t("live.maxReached", { max: clock(session.max_seconds) }));
      void stop();
    }
  }, [session, rec.state, rec.elapsed, stop, t]);

  // A pause longer than the idle timeout would end the session: a little silence keeps it open.
  const keepAlive = live.keepAlive;
  useEffect(() => {
    if (rec.state !== "paused" || !live.liveId) return;
    const every = Math.max(2, (session?.idle_timeout_seconds ?? 30) / 3) * 1000;
    const timer = setInterval(keepAlive, every);
    return () => clearInterval(timer);
  }, [rec.state, live.liveId, session, keepAlive]);

  const busy = live.phase === "sending" || live.phase === "finishing" || job.phase === "uploading";

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
          {session && active && <span className="muted small">{t("live.limit", { max: clock(session.max_seconds) })}</span>}
        </div>
        <LevelMeter level={rec.level} label={t("rec.level")} />
        <div className="actions">
          {!active && rec.state !== "stopped" && (
            <button type="button" className="primary" onClick={() => void start()} disabled={rec.state === "requesting" || busy}>
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
            <button type="button" className="primary" onClick={() => void stop()}>
              {t("rec.stop")}
            </button>
          )}
          {active && (
            <button type="button" onClick={() => void discardCurrent()}>
              {t("rec.discard")}
            </button>
          )}
          {rec.state === "stopped" && !busy && (
            <button type="button" onClick={startNew}>
              {t("rec.new")}
            </button>
          )}
        </div>
        {notice && (
          <p className="alert warn" role="alert">
            {notice}
          </p>
        )}
        {uploading && job.phase === "upload-failed" && (
          <div className="alert warn" role="alert">
            <p>{t("live.uploadFailed", { detail: job.uploadFailure ? errorText(job.uploadFailure, t) : (job.uploadError ?? "") })}</p>
            <div className="actions">
              <button type="button" className="primary" onClick={() => void upload(uploading)}>
                {t("common.retry")}
              </button>
              <button type="button" onClick={() => void downloadLive(uploading)}>
                {t("rec.download")}
              </button>
            </div>
          </div>
        )}
        {unfinished.length > 0 && (
          <div className="pending" role="region" aria-label={t("live.unfinished")}>
            <h2 className="small-title">{t("live.unfinished")}</h2>
            <ul>
              {unfinished.map((r) => (
                <li key={r.key}>
                  <span>
                    {new Date(r.createdAt).toLocaleString()} · {clock(r.samples / 16_000)}
                  </span>
                  <button type="button" className="small-btn" onClick={() => void sendRest(r)} disabled={active || busy}>
                    {t("live.sendRest")}
                  </button>
                  <button type="button" className="small-btn" onClick={() => void downloadLive(r)}>
                    {t("rec.download")}
                  </button>
                  <button type="button" className="small-btn" onClick={() => void discardLive(r)}>
                    {t("rec.discard")}
                  </button>
                </li>
              ))}
            </ul>
          </div>
        )}
        {pending.length > 0 && (
          <div className="pending" role="region" aria-label={t("rec.pending")}>
            <h2 className="small-title">{t("rec.pending")}</h2>
            <ul>
              {pending.map((p) => (
                <li key={p.id}>
                  <span>
                    {new Date(p.createdAt).toLocaleString()} · {clock(p.seconds)}
                  </span>
                  <button type="button" className="small-btn" onClick={() => void sendPending(p)} disabled={busy}>
                    {t("rec.sendPending")}
                  </button>
                  <button type="button" className="small-btn" onClick={() => saveBlob(p.blob, p.filename)}>
                    {t("rec.download")}
                  </button>
                  <button type="button" className="small-btn" onClick={() => void discardPending(p)}>
                    {t("rec.discard")}
                  </button>
                </li>
              ))}
            </ul>
          </div>
        )}
        <details className="more-options">
          <summary>
            {t("opts.profile")} · {t("opts.language")} · {t("opts.title")}
          </summary>
          <OptionsForm value={choices} onChange={setChoices} disabled={active || busy} live languages={languages.data} />
        </details>
      </section>
      <LiveTranscript
        phase={live.phase}
        stream={live.stream}
        sender={live.status}
        final={live.final}
        finalPass={live.status?.options.final_pass ?? false}
        onOpen={onOpen}
        onRetry={live.retry}
      />
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
