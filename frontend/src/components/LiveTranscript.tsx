import { memo, useEffect, useRef } from "react";
import type { TranscriptDetail } from "../api/client";
import type { LiveWord, StreamState } from "../hooks/useEventStream";
import type { LivePhase } from "../hooks/useLiveSession";
import { useI18n } from "../i18n";
import type { SenderStatus } from "../lib/liveSession";
import { clock } from "../lib/format";
import { ProgressBar } from "./JobView";
import { useWordRuns } from "./liveLines";
import { SpeakerTurnLabel } from "./SpeakerLabel";

/** A run of confirmed words: drawn again only when it grows, so an hour-long session re-renders
 * its last run per frame, not all of its words. */
const WordRun = memo(
  function WordRun({ words }: { words: LiveWord[] }) {
    return (
      <>
        {words.map((w) => (
          <span key={w.seq} className="word" title={`${w.t0.toFixed(2)}–${w.t1.toFixed(2)} s`}>
            {w.text}
          </span>
        ))}
      </>
    );
  },
  (a, b) => a.words.length === b.words.length && a.words[a.words.length - 1] === b.words[b.words.length - 1],
);

/** A live session on screen: confirmed words, the lighter tentative tail, then the final text. */
export function LiveTranscript({
  phase,
  stream,
  sender,
  final,
  finalPass,
  onOpen,
  onRetry,
}: {
  phase: LivePhase;
  stream: StreamState;
  sender: SenderStatus | null;
  final: TranscriptDetail | null;
  finalPass: boolean;
  onOpen?: (id: string) => void;
  onRetry?: () => void;
}) {
  const { t } = useI18n();
  const end = useRef<HTMLDivElement>(null);
  useEffect(() => {
    end.current?.scrollIntoView?.({ block: "nearest" });
  }, [stream.wordCount, stream.partial?.text]);
  const runs = useWordRuns(stream.words, stream.wordCount);
  if (phase === "idle" || phase === "upload") return null;
  const unsent = sender ? sender.frames - sender.acked : 0;
  const offline = sender?.state === "waiting";
  const improving = phase === "finishing" && (stream.stage === "final" || finalPass);

  let line = "";
  if (phase === "recording") {
    if (sender?.state === "ended") line = t("live.unavailable");
    else if (offline) line = t("live.offline", { n: unsent });
    else if (!sender?.liveId) line = t("live.connecting");
    else line = t("live.listening");
  } else if (phase === "sending") line = offline ? t("live.sendingOffline", { n: unsent }) : t("live.sending", { n: unsent });
  else if (phase === "finishing") line = stream.status === "reconnecting" ? t("job.reconnecting") : improving ? t("live.improving") : t("live.finishing");
  else if (phase === "done") line = t("job.done");

  const liveId = sender?.liveId ?? null;
  return (
    <section className="card job" aria-labelledby="live-heading">
      <h2 id="live-heading">{t("job.words")}</h2>
      <p className="status-line" role="status" aria-live="polite">
        {line}
      </p>
      {offline && onRetry && (
        <button type="button" className="small-btn" onClick={onRetry}>
          {t("live.retryNow")}
        </button>
      )}
      {improving && stream.stage === "final" && <ProgressBar value={stream.progress} label={t("live.improving")} />}
      {(phase === "failed" || stream.status === "failed") && (
        <p className="alert error" role="alert">
          {t("job.failed", { detail: stream.error ?? sender?.detail ?? "" })}
        </p>
      )}
      <div className="live-words" data-testid="live-words">
        {final ? (
          <>
            <h3 className="live-final-title">{t("live.final")}</h3>
            {/* Speakers are known once the session is diarized, at its end: a label at each turn. */}
            {final.segments.map((segment, i) => (
              <p key={segment.id} className="live-line">
                {segment.speaker && segment.speaker !== final.segments[i - 1]?.speaker && (
                  <SpeakerTurnLabel label={segment.speaker} names={final.speaker_names} />
                )}
                <span className="ts">{clock(segment.t0)}</span>
                <span>{segment.text}</span>
              </p>
            ))}
          </>
        ) : (
          <p className="live-text">
            {/* Only confirmed words are announced: the tail changes too often to be read out. */}
            <span aria-live="polite" data-testid="confirmed-words">
              {runs.map((run) => (
                <WordRun key={run[0].seq} words={run} />
              ))}
            </span>
            {stream.partial && (
              <span className="tentative" data-testid="tentative-words" title={t("live.tentative")}>
                {stream.wordCount && !/^\s/.test(stream.partial.text) ? " " : ""}
                {stream.partial.text}
              </span>
            )}
            {stream.wordCount === 0 && !stream.partial && <span className="muted">{t("job.waiting")}</span>}
          </p>
        )}
        <div ref={end} />
      </div>
      {phase === "done" && liveId && onOpen && (
        <button type="button" className="primary" onClick={() => onOpen(liveId)}>
          {t("job.open")}
        </button>
      )}
    </section>
  );
}
