import { useEffect, useState } from "react";
import { useSpeakerTexts, type SpeakerNames } from "./SpeakerLabel";

export const MAX_SPEAKER_NAME = 40;

/** Rename the speakers of a transcript once for all of it: `onSave` gets {"S1": "Ana"} (null
 * drops a name) and should PATCH /transcripts/{id} with it as `speakers`. */
export function SpeakersEditor({
  speakers,
  names,
  onSave,
}: {
  speakers: string[];
  names: SpeakerNames;
  onSave: (changes: Record<string, string | null>) => Promise<void>;
}) {
  const texts = useSpeakerTexts();
  const [draft, setDraft] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  useEffect(() => {
    setDraft(Object.fromEntries(speakers.map((s) => [s, names?.[s] ?? ""])));
  }, [speakers, names]);
  if (!speakers.length) return null;

  const changes: Record<string, string | null> = {};
  for (const label of speakers) {
    const value = (draft[label] ?? "").trim();
    const before = names?.[label] ?? "";
    if (value !== before) changes[label] = value ? value : null;
  }
  const tooLong = Object.values(draft).some((v) => v.trim().length > MAX_SPEAKER_NAME);

  return (
    <form
      className="speakers-editor"
      aria-label={texts.title}
      onSubmit={async (e) => {
        e.preventDefault();
        if (tooLong || !Object.keys(changes).length) return;
        setBusy(true);
        setMessage(null);
        try {
          await onSave(changes);
          setMessage(texts.saved);
        } catch {
          // the page shows what went wrong
        } finally {
          setBusy(false);
        }
      }}
    >
      <h2 className="small-title">{texts.title}</h2>
      <p className="muted small">{texts.hint}</p>
      {speakers.map((label) => (
        <div key={label} className="speaker-row">
          <label htmlFor={`speaker-${label}`}>{label}</label>
          <input
            id={`speaker-${label}`}
            aria-label={texts.nameOf.replace("{label}", label)}
            value={draft[label] ?? ""}
            maxLength={MAX_SPEAKER_NAME + 10}
            placeholder={label}
            onChange={(e) => setDraft({ ...draft, [label]: e.target.value })}
          />
        </div>
      ))}
      {tooLong && (
        <p className="alert error" role="alert">
          {texts.tooLong}
        </p>
      )}
      <button type="submit" className="small-btn" disabled={busy || tooLong || !Object.keys(changes).length}>
        {texts.save}
      </button>
      {message && (
        <p className="muted small" role="status">
          {message}
        </p>
      )}
    </form>
  );
}
