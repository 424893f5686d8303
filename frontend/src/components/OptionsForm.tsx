import { useId } from "react";
import type { TranscribeChoices } from "../api/upload";
import { languageName, useI18n } from "../i18n";
import { ANY_LANGUAGE, languageList, languagesByName } from "../lib/languages";

/** The final pass's default: on where the live words are least likely to be the best text. */
export function defaultFinalPass(value: Pick<TranscribeChoices, "profile" | "diarization">): boolean {
  return value.profile === "precise" || value.diarization;
}

export function OptionsForm({
  value,
  onChange,
  disabled,
  live,
  languages = [],
}: {
  value: TranscribeChoices;
  onChange: (next: TranscribeChoices) => void;
  disabled?: boolean;
  /** The options of a live session (Grabar): words are always timed; a final pass. */
  live?: boolean;
  /** The account's languages, preferred first (GET /me/languages): detection chooses among them. */
  languages?: string[];
}) {
  const { t, locale } = useI18n();
  const id = useId();
  const set = <K extends keyof TranscribeChoices>(key: K, v: TranscribeChoices[K]) => onChange({ ...value, [key]: v });
  return (
    <fieldset className="options" disabled={disabled}>
      <div className="field">
        <label htmlFor={`${id}-title`}>{t("opts.title")}</label>
        <input id={`${id}-title`} value={value.title} maxLength={200} onChange={(e) => set("title", e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor={`${id}-tags`}>{t("opts.tags")}</label>
        <input
          id={`${id}-tags`}
          value={value.tags}
          placeholder={t("opts.tagsHint")}
          onChange={(e) => set("tags", e.target.value)}
        />
      </div>
      <div className="field">
        <label htmlFor={`${id}-lang`}>{t("opts.language")}</label>
        <select
          id={`${id}-lang`}
          value={value.language}
          aria-describedby={`${id}-lang-hint`}
          onChange={(e) => set("language", e.target.value)}
        >
          <option value="">{t("opts.auto")}</option>
          <option value={ANY_LANGUAGE}>{t("opts.any")}</option>
          {languages.length > 0 && (
            <optgroup label={t("opts.mine")}>
              {languages.map((code) => (
                <option key={code} value={code}>
                  {languageName(code, locale)}
                </option>
              ))}
            </optgroup>
          )}
          <optgroup label={t("opts.others")}>
            {languagesByName(locale, languages).map((code) => (
              <option key={code} value={code}>
                {languageName(code, locale)}
              </option>
            ))}
          </optgroup>
        </select>
        <small id={`${id}-lang-hint`} className="muted">
          {value.language === ANY_LANGUAGE
            ? t("opts.anyHint")
            : value.language === "" && languages.length > 0
              ? t("opts.detectHint", { languages: languageList(languages, locale) })
              : ""}
        </small>
      </div>
      <div className="field" role="radiogroup" aria-labelledby={`${id}-profile`}>
        <span id={`${id}-profile`} className="label">
          {t("opts.profile")}
        </span>
        <div className="segmented">
          {(["fast", "balanced", "precise"] as const).map((p) => (
            <label key={p} className={value.profile === p ? "on" : ""}>
              <input type="radio" name={`${id}-profile`} value={p} checked={value.profile === p} onChange={() => set("profile", p)} />
              {t(`opts.${p}`)}
            </label>
          ))}
        </div>
      </div>
      {!live && (
        <label className="check">
          <input type="checkbox" checked={value.word_timestamps} onChange={(e) => set("word_timestamps", e.target.checked)} />
          {t("opts.words")}
        </label>
      )}
      <label className="check">
        <input type="checkbox" checked={value.diarization} onChange={(e) => set("diarization", e.target.checked)} />
        {t("opts.diarization")}
      </label>
      {live && (
        <div>
          <label className="check">
            <input
              type="checkbox"
              checked={value.final_pass ?? defaultFinalPass(value)}
              aria-describedby={`${id}-final-hint`}
              onChange={(e) => set("final_pass", e.target.checked)}
            />
            {t("opts.finalPass")}
          </label>
          <p id={`${id}-final-hint`} className="muted small hint">
            {t("opts.finalPassHint")}
          </p>
        </div>
      )}
      <label className="check">
        <input type="checkbox" checked={value.translate} onChange={(e) => set("translate", e.target.checked)} />
        {t("opts.translate")}
      </label>
      <div className="field">
        <label htmlFor={`${id}-hotwords`}>{t("opts.hotwords")}</label>
        <input
          id={`${id}-hotwords`}
          value={value.hotwords}
          maxLength={500}
          placeholder={t("opts.hotwordsHint")}
          onChange={(e) => set("hotwords", e.target.value)}
        />
      </div>
      <div className="field">
        <label htmlFor={`${id}-prompt`}>{t("opts.prompt")}</label>
        <textarea
          id={`${id}-prompt`}
          value={value.initial_prompt}
          maxLength={1000}
          rows={2}
          placeholder={t("opts.promptHint")}
          onChange={(e) => set("initial_prompt", e.target.value)}
        />
      </div>
    </fieldset>
  );
}
