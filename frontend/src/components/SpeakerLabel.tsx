import { useEffect, useState } from "react";
import { api, unwrap, type TranscriptDetail } from "../api/client";
import { useI18n } from "../i18n";

export type SpeakerNames = Record<string, string> | null | undefined;

/** The name the user gave a speaker label ("S1" → "Ana"), else the label itself. */
export function speakerName(label: string | null | undefined, names: SpeakerNames): string | null {
  if (!label) return null;
  return names?.[label] || label;
}

/** The speaker of the word (or segment) at `time`, from time-ordered turns, or null. */
export function speakerAt(turns: Array<{ t0: number; t1: number; speaker?: string | null }>, time: number): string | null {
  let lo = 0;
  let hi = turns.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (turns[mid].t0 <= time) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found >= 0 ? (turns[found].speaker ?? null) : null;
}

/** Texts of the speaker components, by interface language (kept here, beside the components). */
export const speakerTexts = {
  es: {
    title: "Hablantes",
    hint: "Pon nombre a cada voz: se usa en toda la transcripción, las descargas y los envíos.",
    nameOf: "Nombre de {label}",
    save: "Guardar nombres",
    saved: "Nombres guardados.",
    tooLong: "Cada nombre tiene como mucho 40 caracteres.",
    speaker: "Hablante",
  },
  en: {
    title: "Speakers",
    hint: "Name each voice: the name is used across the transcript, downloads and exports.",
    nameOf: "Name of {label}",
    save: "Save names",
    saved: "Names saved.",
    tooLong: "Each name is at most 40 characters.",
    speaker: "Speaker",
  },
} as const;

export function useSpeakerTexts() {
  const { locale } = useI18n();
  return speakerTexts[(locale as keyof typeof speakerTexts) in speakerTexts ? (locale as keyof typeof speakerTexts) : "es"];
}

/** A speaker's label at the start of a turn: the user's name for it, else S1, S2, ... */
export function SpeakerLabel({ label, names }: { label: string | null | undefined; names?: SpeakerNames }) {
  const texts = useSpeakerTexts();
  const name = speakerName(label, names);
  if (!name || !label) return null;
  return (
    <span className="speaker-label" data-speaker={label} title={name === label ? undefined : label} aria-label={`${texts.speaker}: ${name}`}>
      {name}
    </span>
  );
}

/** A speaker's label on a row of its own, above the first line of a turn (in a flex row of
 * timestamp, text and buttons it takes the whole width, so the line below keeps its layout). */
export function SpeakerTurnLabel({ label, names }: { label: string | null | undefined; names?: SpeakerNames }) {
  if (!label) return null;
  return (
    <div className="speaker-turn">
      <SpeakerLabel label={label} names={names} />
    </div>
  );
}

export type SpeakerTurn = { t0: number; t1: number; speaker: string | null };

/** Once a diarized job has completed, its turns (segments' speakers, in time order) and the
 * names given to them, for the live view: its words streamed before the speakers were known. */
export function useCompletedSpeakers(jobId: string | null, completed: boolean): { turns: SpeakerTurn[]; names: SpeakerNames } {
  const [state, setState] = useState<{ turns: SpeakerTurn[]; names: SpeakerNames }>({ turns: [], names: null });
  useEffect(() => {
    if (!jobId || !completed) return;
    let cancelled = false;
    unwrap<TranscriptDetail>(api.GET("/transcripts/{transcript_id}", { params: { path: { transcript_id: jobId }, query: { words: false } } }))
      .then((detail) => {
        if (cancelled || !detail.speakers?.length) return;
        setState({
          turns: detail.segments.map((s) => ({ t0: s.t0, t1: s.t1, speaker: s.speaker ?? null })),
          names: detail.speaker_names,
        });
      })
      .catch(() => {});
    return () => {
      cancelled = true;
    };
  }, [jobId, completed]);
  return state;
}
