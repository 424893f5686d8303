import { useCallback, useDeferredValue, useEffect, useMemo, useRef, useState } from "react";
import { ApiError, type Segment, type TranscriptDetail as TranscriptDetailData, type TranscriptPatch } from "../api/client";
import { isRunning, useLanguages, useRetranscribe, useTranscript, useUpdateTranscript } from "../api/queries";
import { FindReplace } from "../components/FindReplace";
import { findMatches, replacements, type TextMatch } from "../lib/findReplace";
import { ProgressBar } from "../components/JobView";
import { LanguageDoubt } from "../components/LanguageDoubt";
import { TranscriptActions } from "../components/TranscriptActions";
import { usePlaybackKeys } from "../hooks/usePlaybackKeys";
import { usePlaybackTime } from "../hooks/usePlaybackTime";
import { ShareLinks } from "../components/ShareLinks";
import { errorText, languageName, useI18n, warningText, type MessageKey } from "../i18n";
import { ANY_LANGUAGE, languageDoubtful } from "../lib/languages";
import { clock } from "../lib/format";
import { SpeakersEditor } from "../components/SpeakersEditor";
import { TranscriptText } from "../components/TranscriptText";

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

/** How the transcript's language was decided, as a word for its line of facts (null: not recorded). */
export function languageSourceKey(detail: Pick<TranscriptDetailData, "language_source" | "language_unsure">): MessageKey | null {
  if (!detail.language_source) return null;
  if (languageDoubtful(detail)) return "lang.unsure";
  return detail.language_source === "forced" ? "lang.forced" : "lang.detected";
}

export function TranscriptDetail({ id, onBack, onOpen }: { id: string; onBack: () => void; onOpen?: (id: string) => void }) {
  const { t, locale } = useI18n();
  // Polled while the job is queued, running or live: the page turns into the text by itself.
  const transcript = useTranscript(id);
  const detail = transcript.data ?? null;
  const languages = useLanguages();
  const retranscribe = useRetranscribe(id);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [rate, setRate] = useState(1);
  const [sharing, setSharing] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);
  const [editing, setEditing] = useState<number | null>(null);
  const [draft, setDraft] = useState("");
  const update = useUpdateTranscript(id);
  const [finding, setFinding] = useState(false);
  const [findFocus, setFindFocus] = useState(0);
  const [query, setQuery] = useState("");
  const [current, setCurrent] = useState(0);
  const audio = useRef<HTMLAudioElement>(null);
  // Each answer carries a freshly signed audio URL: keep the first, so a refresh after an edit
  // does not reload the player and lose its place.
  const audioSrc = useRef<{ id: string; url: string } | null>(null);
  if (detail?.audio_url && audioSrc.current?.id !== id) audioSrc.current = { id, url: detail.audio_url };

  // Another transcript (e.g. the new run of "Volver a transcribir"): no line stays in edit.
  useEffect(() => {
    setEditing(null);
    setError(null);
    setFinding(false);
    setQuery("");
  }, [id]);

  /** A new job over the same audio in `language`; the page then follows the new transcript. */
  async function again(language: string) {
    const job = await retranscribe.mutateAsync(language);
    setNotice(language === ANY_LANGUAGE ? t("detail.retranscribingAny") : t("detail.retranscribing", { language: languageName(language, locale) }));
    onOpen?.(job.job_id);
  }

  const refetch = transcript.refetch;
  const load = useCallback(async () => {
    await refetch();
  }, [refetch]);

  // Opening a transcript moves the focus to its title, so a screen reader starts there.
  const loaded = detail !== null;
  useEffect(() => {
    if (loaded) heading.current?.focus();
  }, [loaded, id]);

  useEffect(() => {
    if (audio.current) audio.current.playbackRate = rate;
  }, [rate, detail?.audio_url]);
  usePlaybackKeys(audio);

  // Follow playback smoothly, to highlight the word playing.
  const [time, seek] = usePlaybackTime(audio, detail?.audio_url);

  const startEditing = useCallback((segment: Segment) => {
    setDraft(segment.text.trim());
    setEditing(segment.id);
  }, []);
  const stopEditing = useCallback(() => setEditing(null), []);
  // The text's blocks re-render only when their props change: saving goes through a stable callback.
  const saveRef = useRef<(segment: Segment) => void>(() => {});
  saveRef.current = (segment) => void saveLine(segment);
  const save = useCallback((segment: Segment) => saveRef.current(segment), []);

  /**
   * Every correction (a line, find and replace, speakers' names) is sent with the version read:
   * had the transcript changed since (another tab, device or person), nothing is written (409),
   * the page shows the latest text, and what the user typed stays, to be saved again.
   */
  async function correct(patch: Omit<TranscriptPatch, "version">): Promise<boolean> {
    if (!detail) return false;
    setError(null);
    try {
      await update.mutateAsync({ ...patch, version: detail.version });
      return true;
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) {
        await load();
        setError(t("detail.conflict"));
      } else setError(errorText(e, t));
      return false;
    }
  }

  async function saveLine(segment: Segment) {
    if (await correct({ segments: [{ id: segment.id, text: draft }] })) setEditing(null);
  }

  async function saveSpeakers(changes: Record<string, string | null>) {
    if (!(await correct({ speakers: changes }))) throw new Error("speaker names not saved");
  }

  const silent = detail?.status === "completed" && detail.segments.length === 0;
  const segments = detail?.segments;
  const editable = detail?.status === "completed" && !silent;

  // Find and replace: matches across the whole text, walked one at a time.
  const searched = useDeferredValue(finding ? query : "");
  const matches = useMemo<TextMatch[]>(() => (searched.trim() && segments ? findMatches(segments, searched) : []), [segments, searched]);
  const at = matches.length ? Math.min(current, matches.length - 1) : -1;
  useEffect(() => setCurrent(0), [searched]);
  useEffect(() => {
    if (at < 0) return;
    document.querySelector(`mark.find-match[data-match="${at}"]`)?.scrollIntoView({ block: "center" });
  }, [at, matches]);
  // Ctrl/Cmd+F opens the panel (or returns to its field) on a transcript that can be edited.
  useEffect(() => {
    if (!editable) return;
    function onKey(e: KeyboardEvent) {
      if ((e.ctrlKey || e.metaKey) && !e.altKey && e.key.toLowerCase() === "f") {
        e.preventDefault();
        setFinding(true);
        setFindFocus((n) => n + 1);
      }
    }
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [editable]);

  async function replace(chosen: TextMatch[], replacement: string) {
    if (!detail || !chosen.length) return;
    if (await correct({ segments: replacements(detail.segments, chosen, replacement) }))
      setNotice(chosen.length === 1 ? t("find.replacedOne") : t("find.replacedMany", { n: String(chosen.length) }));
  }
  const allWords = useMemo(() => (segments ?? []).flatMap((s) => s.words ?? []), [segments]);
  const playing = currentWord(allWords, time);
  const sourceKey = detail ? languageSourceKey(detail) : null;
  const languageWithSource = detail?.language
    ? `${languageName(detail.language, locale)}${sourceKey ? ` (${t(sourceKey)})` : ""}`
    : "";

  return (
    <main id="main" className="screen detail">
      <button type="button" className="link" onClick={onBack}>
        ← {t("detail.back")}
      </button>
      {(error || transcript.error) && (
        <p className="alert error" role="alert">
          {error ?? errorText(transcript.error, t)}
        </p>
      )}
      {notice && (
        <p className="alert ok" role="status">
          {notice}
        </p>
      )}
      {detail && (
        <>
          <h1 ref={heading} tabIndex={-1}>
            {detail.title || detail.id}
          </h1>
          <TranscriptActions item={detail} onNotice={setNotice} onDeleted={onBack} onShare={() => setSharing((open) => !open)} sharing={sharing} />
          {sharing && detail.status === "completed" && <ShareLinks transcriptId={detail.id} onClose={() => setSharing(false)} />}
          {detail.warning && detail.status === "completed" && (
            <p className="alert warn transcript-warning" role="note">
              {warningText(detail.warning, t, locale)}
            </p>
          )}
          {onOpen && <LanguageDoubt detail={detail} languages={languages.data ?? []} onRetranscribe={again} />}
          <div className="detail-grid">
            <section className="card player" aria-label={t("detail.audio")}>
              {detail.audio_url ? (
                <>
                  <audio ref={audio} controls preload="metadata" src={audioSrc.current?.url ?? detail.audio_url} aria-label={t("detail.audio")} />
                  <div className="speed">
                    <label htmlFor="detail-speed">{t("detail.speed")}</label>
                    <select id="detail-speed" value={rate} onChange={(e) => setRate(Number(e.target.value))}>
                      {[0.75, 1, 1.25, 1.5, 2].map((r) => (
                        <option key={r} value={r}>
                          {r.toLocaleString(locale)}×
                        </option>
                      ))}
                    </select>
                    <small className="muted">{t("detail.spaceHint")}</small>
                  </div>
                </>
              ) : (
                <p className="muted">{t("detail.noAudio")}</p>
              )}
              <p className="muted small">
                {[silent ? "" : languageWithSource, detail.duration ? clock(detail.duration) : "", t(`status.${detail.status}`), detail.tags.map((x) => `#${x}`).join(" ")].filter(Boolean).join(" · ")}
              </p>
              {detail.status === "completed" && detail.speakers.length > 0 && (
                <SpeakersEditor speakers={detail.speakers} names={detail.speaker_names} onSave={saveSpeakers} />
              )}
              {detail.exports.length > 0 && (
                <div className="deliveries">
                  <h2 className="small-title">{t("detail.exports")}</h2>
                  <ul>
                    {detail.exports.map((d) => (
                      <li key={d.id}>
                        <strong>{d.destination}</strong> · <span className={`delivery-status ${d.status}`}>{t(`delivery.${d.status}`)}</span>
                        {d.attempts ? ` · ${d.attempts === 1 ? t("detail.attempt") : t("detail.attempts", { n: String(d.attempts) })}` : ""}
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
              {detail.status !== "completed" && <p className="muted" role="status">{t("detail.notReady", { status: t(`status.${detail.status}`) })}</p>}
              {isRunning(detail.status) && detail.progress ? <ProgressBar value={detail.progress} label={t("job.progress")} /> : null}
              {detail.status === "failed" && detail.error && (
                <p className="alert error">
                  {t("job.failed", { detail: detail.error })}
                </p>
              )}
              {silent && <p className="muted">{t("job.noSpeech")}</p>}
              {editable &&
                (finding ? (
                  <FindReplace
                    query={query}
                    onQuery={setQuery}
                    count={matches.length}
                    current={at}
                    focusKey={findFocus}
                    onStep={(by) => setCurrent((at + by + matches.length) % matches.length)}
                    onReplace={(replacement) => replace([matches[at]], replacement)}
                    onReplaceAll={(replacement) => replace(matches, replacement)}
                    onClose={() => setFinding(false)}
                  />
                ) : (
                  <button type="button" className="small-btn find-open" aria-keyshortcuts="Control+F" onClick={() => setFinding(true)}>
                    {t("find.open")}
                  </button>
                ))}
              <TranscriptText
                key={detail.id}
                segments={detail.segments}
                names={detail.speaker_names}
                playing={playing}
                editing={editing}
                draft={draft}
                onDraft={setDraft}
                onSeek={seek}
                onEdit={startEditing}
                onSave={save}
                onCancel={stopEditing}
                matches={matches}
                currentMatch={at}
              />
            </section>
          </div>
        </>
      )}
    </main>
  );
}
