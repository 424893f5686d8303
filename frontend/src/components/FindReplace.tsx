// The transcript page's find and replace: a find field and a replace field, the matches counted
// and walked through, one or all of them replaced (each as its segment's correction).
import { useEffect, useRef, useState } from "react";
import { useI18n } from "../i18n";

export interface FindReplaceProps {
  query: string;
  onQuery: (query: string) => void;
  count: number;
  /** Index of the current match, or -1. */
  current: number;
  onStep: (by: 1 | -1) => void;
  onReplace: (replacement: string) => Promise<void>;
  onReplaceAll: (replacement: string) => Promise<void>;
  onClose: () => void;
  /** Bumped to bring the focus back to the find field (e.g. Ctrl+F while the panel is open). */
  focusKey?: number;
}

export function FindReplace({ query, onQuery, count, current, onStep, onReplace, onReplaceAll, onClose, focusKey = 0 }: FindReplaceProps) {
  const { t } = useI18n();
  const [replacement, setReplacement] = useState("");
  const [busy, setBusy] = useState(false);
  const find = useRef<HTMLInputElement>(null);
  useEffect(() => {
    find.current?.focus();
    find.current?.select();
  }, [focusKey]);

  async function run(action: (replacement: string) => Promise<void>) {
    setBusy(true);
    try {
      await action(replacement);
    } finally {
      setBusy(false);
    }
  }

  const counted = !query.trim() ? "" : count === 0 ? t("find.none") : count === 1 ? t("find.one") : t("find.many", { n: String(count) });
  return (
    <div
      className="find-replace"
      role="search"
      aria-label={t("find.open")}
      onKeyDown={(e) => {
        if (e.key === "Escape") {
          e.preventDefault();
          onClose();
        }
      }}
    >
      <div className="find-fields">
        <label>
          {t("find.find")}
          <input
            ref={find}
            type="search"
            value={query}
            onChange={(e) => onQuery(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === "Enter") {
                e.preventDefault();
                onStep(e.shiftKey ? -1 : 1);
              }
            }}
          />
        </label>
        <label>
          {t("find.replaceWith")}
          <input type="text" value={replacement} onChange={(e) => setReplacement(e.target.value)} />
        </label>
      </div>
      <p className="find-count small" role="status" aria-live="polite">
        {counted}
        {count > 0 && current >= 0 ? ` · ${t("find.position", { k: String(current + 1), n: String(count) })}` : ""}
      </p>
      <div className="find-buttons">
        <button type="button" className="small-btn" disabled={count === 0} onClick={() => onStep(-1)}>
          {t("find.previous")}
        </button>
        <button type="button" className="small-btn" disabled={count === 0} onClick={() => onStep(1)}>
          {t("find.next")}
        </button>
        <button type="button" className="small-btn" disabled={count === 0 || busy} onClick={() => void run(onReplace)}>
          {t("find.replace")}
        </button>
        <button type="button" className="small-btn primary" disabled={count === 0 || busy} onClick={() => void run(onReplaceAll)}>
          {t("find.replaceAll")}
        </button>
        <button type="button" className="small-btn" onClick={onClose}>
          {t("common.close")}
        </button>
      </div>
      <small className="muted">{t("find.hint")}</small>
    </div>
  );
}
