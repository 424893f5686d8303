import { useEffect, useId, useState, type FormEvent } from "react";
import { errorText, languageName, useI18n } from "../i18n";
import { languagesByName, MAX_LANGUAGES, moveItem, sameLanguages } from "../lib/languages";

/**
 * The languages the user speaks, preferred first: add, remove, reorder, then save. `onSave`
 * gets the whole list (PUT /me/languages); the saved list comes back as `languages`.
 */
export function LanguagesEditor({
  languages,
  onSave,
}: {
  languages: string[];
  onSave: (languages: string[]) => Promise<unknown>;
}) {
  const { t, locale } = useI18n();
  const id = useId();
  const [draft, setDraft] = useState<string[]>(languages);
  const [adding, setAdding] = useState("");
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const saved = languages.join(",");
  useEffect(() => {
    setDraft(saved ? saved.split(",") : []);
  }, [saved]);

  const dirty = !sameLanguages(draft, languages);
  const full = draft.length >= MAX_LANGUAGES;
  const name = (code: string) => languageName(code, locale);
  const change = (next: string[]) => {
    setDraft(next);
    setMessage(null);
    setError(null);
  };

  function add() {
    if (!adding || draft.includes(adding) || full) return;
    change([...draft, adding]);
    setAdding("");
  }

  async function save(e: FormEvent) {
    e.preventDefault();
    if (!dirty || !draft.length || busy) return;
    setBusy(true);
    setError(null);
    setMessage(null);
    try {
      await onSave(draft);
      setMessage(t("langs.saved"));
    } catch (err) {
      setError(errorText(err, t));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="languages-editor" aria-labelledby={`${id}-heading`} onSubmit={save}>
      <h2 id={`${id}-heading`}>{t("langs.heading")}</h2>
      <p className="muted small">{t("langs.hint")}</p>
      <ol className="languages" aria-label={t("langs.list")}>
        {draft.map((code, i) => (
          <li key={code} aria-label={name(code)}>
            <span className="language-name" lang={code}>
              {name(code)}
            </span>
            {i === 0 && <span className="badge preferred">{t("langs.preferred")}</span>}
            <span className="language-actions">
              <button type="button" className="small-btn" aria-label={t("langs.up", { language: name(code) })} disabled={i === 0} onClick={() => change(moveItem(draft, i, i - 1))}>
                ↑
              </button>
              <button
                type="button"
                className="small-btn"
                aria-label={t("langs.down", { language: name(code) })}
                disabled={i === draft.length - 1}
                onClick={() => change(moveItem(draft, i, i + 1))}
              >
                ↓
              </button>
              <button
                type="button"
                className="small-btn danger-outline"
                aria-label={t("langs.remove", { language: name(code) })}
                disabled={draft.length <= 1}
                onClick={() => change(draft.filter((c) => c !== code))}
              >
                {t("langs.removeShort")}
              </button>
            </span>
          </li>
        ))}
      </ol>
      <div className="add-language">
        <label htmlFor={`${id}-add`}>{t("langs.add")}</label>
        <div className="combo">
          <select id={`${id}-add`} value={adding} disabled={full} onChange={(e) => setAdding(e.target.value)}>
            <option value="">{t("langs.pick")}</option>
            {languagesByName(locale, draft).map((code) => (
              <option key={code} value={code}>
                {name(code)}
              </option>
            ))}
          </select>
          <button type="button" disabled={!adding || full} onClick={add}>
            {t("langs.addButton")}
          </button>
        </div>
        {full && <p className="muted small">{t("langs.max", { n: MAX_LANGUAGES })}</p>}
      </div>
      {error && (
        <p className="alert error" role="alert">
          {error}
        </p>
      )}
      <div className="actions">
        <button type="submit" className="primary" disabled={!dirty || busy}>
          {busy ? t("common.working") : t("langs.save")}
        </button>
        {dirty && (
          <button type="button" onClick={() => change(languages)}>
            {t("langs.undo")}
          </button>
        )}
      </div>
      <p className="muted small" role="status">
        {message ?? (dirty ? t("langs.unsaved") : "")}
      </p>
    </form>
  );
}
