import { useCallback, useEffect, useRef, useState } from "react";
import { api, unwrap, type Segment, type TranscriptDetail as Detail } from "../api/client";
import { useI18n } from "../i18n";
import { clock } from "../lib/format";

/** The index of the word playing at `time`, or -1. */
export function currentWord(words: Array<{ t0: number; t1: number }>, time: number): number {
  let lo = 0;
  let hi = words.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (words[mid].t0 <= time) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found >= 0 && time <= words[found].t1 + 0.3 ? found : -1;
}

export function TranscriptDetail({ id, onBack }: { id: string; onBack: () => void }) {
  const { t } = useI18n();
  const [detail, setDetail] = useState<Detail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [time, setTime] = useState(0);
  const [editing, setEditing] = useState<number | null>(null);
  const [draft, setDraft] = useState("");
  const audio = useRef<HTMLAudioElement>(null);

  const load = useCallback(async () => {
    try {
      setDetail(await unwrap<Detail>(api.GET("/transcripts/{transcript_id}", { params: { path: { transcript_id: id } } })));
    } catch (e) {
      setError((e as Error).message);
    }
  }, [id]);

  useEffect(() => {
    void load();
  }, [load]);

  // Follow playback smoothly (timeupdate alone fires only ~4 times a second).
  useEffect(() => {
    const el = audio.current;
    if (!el) return;
    let raf = 0;
    const frame = () => {
      setTime(el.currentTime);
      if (!el.paused) raf = requestAnimationFrame(frame);
    };
    const onPlay = () => {
      cancelAnimationFrame(raf);
      raf = requestAnimationFrame(frame);
    };
    const onUpdate = () => setTime(el.currentTime);
    el.addEventListener("play", onPlay);
    el.addEventListener("timeupdate", onUpdate);
    el.addEventListener("seeked", onUpdate);
    return () => {
      cancelAnimationFrame(raf);
      el.removeEventListener("play", onPlay);
      el.removeEventListener("timeupdate", onUpdate);
      el.removeEventListener("seeked", onUpdate);
    };
  }, [detail?.audio_url]);

  const seek = (to: number) => {
    const el = audio.current;
    if (!el) return;
    el.currentTime = to;
    setTime(to);
    void el.play().catch(() => {});
  };

  async function saveLine(segment: Segment) {
    try {
      await unwrap(
        api.PATCH("/transcripts/{transcript_id}", {
          params: { path: { transcript_id: id } },
          body: { segments: [{ id: segment.id, text: draft }] },
        }),
      );
      setEditing(null);
      await load();
    } catch (e) {
      setError((e as Error).message);
    }
  }

  const allWords = (detail?.segments ?? []).flatMap((s) => (s.words ?? []).map((w) => ({ ...w, segment: s.id })));
  const playing = currentWord(allWords, time);
  let wordIndex = -1;

  return (
    <main id="main" className="screen detail">
      <button type="button" className="link" onClick={onBack}>
        ← {t("detail.back")}
      </button>
      {error && (
        <p className="alert error" role="alert">
          {error}
        </p>
      )}
      {detail && (
        <>
          <h1>{detail.title || detail.id}</h1>
          <div className="detail-grid">
            <section className="card player" aria-label={t("detail.audio")}>
              {detail.audio_url ? (
                <audio ref={audio} controls preload="metadata" src={detail.audio_url} aria-label={t("detail.audio")} />
              ) : (
                <p className="muted">{t("detail.noAudio")}</p>
              )}
              <p className="muted small">
                {detail.language ?? ""} {detail.duration ? `· ${clock(detail.duration)}` : ""} · {t(`status.${detail.status}`)}
              </p>
              {detail.exports.length > 0 && (
                <div className="deliveries">
                  <h2 className="small-title">{t("detail.exports")}</h2>
                  <ul>
                    {detail.exports.map((d) => (
                      <li key={d.id}>
                        <strong>{d.destination}</strong> · <span className={`delivery-status ${d.status}`}>{t(`delivery.${d.status}`)}</span>
                        {d.attempts ? ` · ${t("detail.attempts", { n: String(d.attempts) })}` : ""}
                        {d.url && (
                          <>
                            {" · "}
                            <a href={d.url} target="_blank" rel="noreferrer">
                              {t("detail.openLink")}
                            </a>
                          </>
                        )}
                        {d.last_error && d.status !== "delivered" && <div className="muted small">{d.last_error}</div>}
                      </li>
                    ))}
                  </ul>
                  <button type="button" className="small-btn" onClick={() => void load()}>
                    {t("detail.refresh")}
                  </button>
                </div>
              )}
            </section>
            <section className="card transcript" aria-label={t("job.words")}>
              {detail.status !== "completed" && <p className="muted">{t("detail.notReady", { status: t(`status.${detail.status}`) })}</p>}
              {detail.segments.map((segment) => (
                <div key={segment.id} className="segment">
                  <button type="button" className="ts link" onClick={() => seek(segment.t0)} aria-label={t("detail.seek", { time: clock(segment.t0) })}>
                    {clock(segment.t0)}
                  </button>
                  {editing === segment.id ? (
                    <form
                      className="inline grow"
                      onSubmit={(e) => {
                        e.preventDefault();
                        void saveLine(segment);
                      }}
                    >
                      <label className="visually-hidden" htmlFor={`seg-${segment.id}`}>
                        {t("detail.lineText")}
                      </label>
                      <textarea id={`seg-${segment.id}`} value={draft} rows={2} autoFocus onChange={(e) => setDraft(e.target.value)} />
                      <button type="submit" className="primary">
                        {t("common.save")}
                      </button>
                      <button type="button" onClick={() => setEditing(null)}>
                        {t("common.cancel")}
                      </button>
                    </form>
                  ) : (
                    <>
                      <p className="line">
                        {(segment.words?.length ? segment.words : null)?.map((w) => {
                          wordIndex += 1;
                          const active = wordIndex === playing;
                          return (
                            <span
                              key={wordIndex}
                              className={`word clickable${active ? " current" : ""}`}
                              aria-current={active ? "true" : undefined}
                              onClick={() => seek(w.t0)}
                            >
                              {w.text}
                            </span>
                          );
                        }) ?? segment.text}
                        {segment.edited && <small className="badge edited">{t("detail.edited")}</small>}
                      </p>
                      <button
                        type="button"
                        className="small-btn"
                        aria-label={t("detail.editLine", { time: clock(segment.t0) })}
                        onClick={() => {
                          setDraft(segment.text.trim());
                          setEditing(segment.id);
                        }}
                      >
                        {t("detail.edit")}
                      </button>
                    </>
                  )}
                </div>
              ))}
            </section>
          </div>
        </>
      )}
    </main>
  );
}
