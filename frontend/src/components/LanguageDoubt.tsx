import { useEffect, useId, useState } from "react";
import type { TranscriptDetail } from "../api/client";
import { isApiError } from "../auth";
import { errorText, languageName, useI18n } from "../i18n";
import { ANY_LANGUAGE, languageDoubtful, languagesByName, suggestedLanguage } from "../lib/languages";

/**
 * "Idioma dudoso": shown on a finished transcript whose language detection was unsure (or fell
 * back to the user's preferred language), with "Volver a transcribir en…" a language of the
 * user's choice. `onRetranscribe` starts the new job (POST /transcripts/{id}/retranscribe).
 */
export function LanguageDoubt({
  detail,
  languages,
  onRetranscribe,
}: {
  detail: Pick<TranscriptDetail, "id" | "status" | "language" | "language_source" | "language_unsure">;
  /** The account's languages, preferred first. */
  languages: string[];
  onRetranscribe: (language: string) => Promise<void>;
}) {
  const { t, locale } = useI18n();
  const id = useId();
  const suggestion = suggestedLanguage(detail.language, languages, locale, typeof navigator === "undefined" ? [] : navigator.languages);
  const [choice, setChoice] = useState(suggestion);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // The suggestion changes once the user's languages arrive (or on another transcript).
  useEffect(() => setChoice(suggestion), [suggestion, detail.id]);

  if (detail.status !== "completed" || !languageDoubtful(detail)) return null;
  const used = languageName(detail.language, locale) || "–";
  const mine = languages.filter((code) => code !== detail.language);
  const others = languagesByName(locale, [...mine, ...(detail.language ? [detail.language] : [])]);

  return (
    <section className="alert warn language-doubt" aria-labelledby={`${id}-title`}>
      <p id={`${id}-title`} className="doubt-title">
        <strong>
          {detail.language_source === "preferred_fallback"
            ? t("detail.languageFallback", { language: used })
            : t("detail.languageUnsure", { language: used })}
        </strong>
      </p>
      <form
        className="inline"
        onSubmit={async (e) => {
          e.preventDefault();
          if (!choice || busy) return;
          setBusy(true);
          setError(null);
          try {
            await onRetranscribe(choice);
          } catch (err) {
            setError(isApiError(err, 409) ? t("detail.retranscribeConflict") : errorText(err, t));
          } finally {
            setBusy(false);
          }
        }}
      >
        <label htmlFor={`${id}-lang`}>{t("detail.retranscribeIn")}</label>
        <select id={`${id}-lang`} value={choice} onChange={(e) => setChoice(e.target.value)}>
          {mine.length > 0 && (
            <optgroup label={t("opts.mine")}>
              {mine.map((code) => (
                <option key={code} value={code}>
                  {languageName(code, locale)}
                </option>
              ))}
            </optgroup>
          )}
          <optgroup label={t("opts.others")}>
            {others.map((code) => (
              <option key={code} value={code}>
                {languageName(code, locale)}
              </option>
            ))}
          </optgroup>
          <option value={ANY_LANGUAGE}>{t("detail.retranscribeAny")}</option>
        </select>
        <button type="submit" className="primary" disabled={busy}>
          {busy ? t("common.working") : t("detail.retranscribe")}
        </button>
      </form>
      <p className="small">{t("detail.retranscribeHint")}</p>
      {error && (
        <p className="alert error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
