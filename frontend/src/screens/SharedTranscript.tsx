import { useEffect, useMemo, useRef, useState } from "react";
import { ApiError } from "../api/client";
import { useSharedTranscript } from "../api/queries";
import { TranscriptText } from "../components/TranscriptText";
import { usePlaybackKeys } from "../hooks/usePlaybackKeys";
import { usePlaybackTime } from "../hooks/usePlaybackTime";
import { errorText, languageName, useI18n } from "../i18n";
import { clock, dateTime } from "../lib/format";
import { currentWord } from "./TranscriptDetail";

/**
 * A share link's page (/compartido/<token>): the transcript's player and text, read-only, for
 * anyone with the link and without signing in. Nothing here leads into an account.
 */
export function SharedTranscript({ token }: { token: string }) {
  const { t, locale } = useI18n();
  const shared = useSharedTranscript(token);
  const data = shared.data ?? null;
  const audio = useRef<HTMLAudioElement>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const [rate, setRate] = useState(1);
  const [time, seek] = usePlaybackTime(audio, data?.audio_url);
  usePlaybackKeys(audio);

  useEffect(() => {
    if (audio.current) audio.current.playbackRate = rate;
  }, [rate, data?.audio_url]);
  useEffect(() => {
    if (data) heading.current?.focus();
  }, [data]);

  const segments = data?.segments;
  const words = useMemo(() => (segments ?? []).flatMap((s) => s.words), [segments]);

  if (shared.isPending)
    return (
      <main id="main" className="screen detail shared">
        <p className="muted" role="status">
          {t("common.working")}
        </p>
      </main>
    );

  if (!data) {
    const gone = shared.error instanceof ApiError && shared.error.status === 404;
    return (
      <main id="main" className="screen detail shared">
        <h1>{t("share.unavailableTitle")}</h1>
        <p className="alert warn" role="alert">
          {gone ? t("share.unavailable") : errorText(shared.error, t)}
        </p>
      </main>
    );
  }

  const playing = currentWord(words, time);
  const facts = [
    data.language ? languageName(data.language, locale) : "",
    data.duration ? clock(data.duration) : "",
    t("share.until", { date: dateTime(data.expires_at, locale) }),
  ].filter(Boolean);

  return (
    <main id="main" className="screen detail shared">
      <p className="muted small">{t("share.sharedWithYou")}</p>
      <h1 ref={heading} tabIndex={-1}>
        {data.title || t("share.untitled")}
      </h1>
      <div className="detail-grid">
        <section className="card player" aria-label={t("detail.audio")}>
          {data.audio_url ? (
            <>
              <audio ref={audio} controls preload="metadata" src={data.audio_url} aria-label={t("detail.audio")} />
              <div className="speed">
                <label htmlFor="shared-speed">{t("detail.speed")}</label>
                <select id="shared-speed" value={rate} onChange={(e) => setRate(Number(e.target.value))}>
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
          <p className="muted small">{facts.join(" · ")}</p>
        </section>
        <section className="card transcript" aria-label={t("job.words")}>
          {data.segments.length === 0 && <p className="muted">{t("job.noSpeech")}</p>}
          <TranscriptText segments={data.segments} playing={playing} onSeek={seek} />
        </section>
      </div>
    </main>
  );
}
