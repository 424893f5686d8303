import { useRef, useState } from "react";
import type { NewShareLink } from "../api/client";
import { useCreateShare, useRevokeShare, useShares } from "../api/queries";
import { errorText, useI18n } from "../i18n";
import { dateTime } from "../lib/format";

/** How long a new link may open, in days (the API takes 1 to 90). */
export const EXPIRY_DAYS = [1, 7, 30, 90] as const;
export const DEFAULT_EXPIRY_DAYS = 7;

/** A new link's full address: the API's `url` when it names a host, else `path` on this origin. */
export function shareAddress(link: Pick<NewShareLink, "path" | "url">, origin: string): string {
  return /^https?:\/\//i.test(link.url) ? link.url : origin.replace(/\/$/, "") + link.path;
}

/** Copy `text` to the clipboard; without the Clipboard API (an insecure origin), select it in `field` and ask the browser to copy. */
export async function copyText(text: string, field?: HTMLInputElement | null): Promise<boolean> {
  try {
    if (navigator.clipboard?.writeText) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    /* refused: fall back to the selection */
  }
  if (!field) return false;
  field.focus();
  field.select();
  try {
    return document.execCommand("copy");
  } catch {
    return false;
  }
}

/** The transcript page's share links: make one with an expiry, copy it, see the open ones, revoke. */
export function ShareLinks({ transcriptId, onClose }: { transcriptId: string; onClose: () => void }) {
  const { t, locale } = useI18n();
  const links = useShares(transcriptId);
  const create = useCreateShare(transcriptId);
  const revoke = useRevokeShare(transcriptId);
  const [days, setDays] = useState<number>(DEFAULT_EXPIRY_DAYS);
  const [made, setMade] = useState<{ id: string; address: string } | null>(null);
  const [copied, setCopied] = useState<boolean | null>(null);
  const [error, setError] = useState<string | null>(null);
  const field = useRef<HTMLInputElement>(null);

  async function makeLink() {
    setError(null);
    setCopied(null);
    try {
      const link = await create.mutateAsync(days);
      setMade({ id: link.id, address: shareAddress(link, window.location.origin) });
    } catch (e) {
      setError(errorText(e, t));
    }
  }

  async function revokeLink(id: string) {
    setError(null);
    try {
      await revoke.mutateAsync(id);
      if (made?.id === id) setMade(null);
    } catch (e) {
      setError(errorText(e, t));
    }
  }

  const open = links.data ?? [];
  return (
    <section id="share-links" className="card share-links" aria-labelledby="share-title">
      <h2 id="share-title" className="small-title">
        {t("share.title")}
      </h2>
      <p className="muted small">{t("share.hint")}</p>
      {(error || links.error) && (
        <p className="alert error" role="alert">
          {error ?? errorText(links.error, t)}
        </p>
      )}
      <form
        className="inline"
        onSubmit={(e) => {
          e.preventDefault();
          void makeLink();
        }}
      >
        <label htmlFor={`share-days-${transcriptId}`}>{t("share.expiresIn")}</label>
        <select id={`share-days-${transcriptId}`} value={days} onChange={(e) => setDays(Number(e.target.value))}>
          {EXPIRY_DAYS.map((d) => (
            <option key={d} value={d}>
              {d === 1 ? t("share.oneDay") : t("share.days", { n: d })}
            </option>
          ))}
        </select>
        <button type="submit" className="primary" disabled={create.isPending}>
          {t("share.create")}
        </button>
      </form>
      {made && (
        <div className="share-new">
          <label htmlFor={`share-url-${transcriptId}`}>{t("share.link")}</label>
          <div className="inline">
            <input
              id={`share-url-${transcriptId}`}
              ref={field}
              className="grow"
              readOnly
              value={made.address}
              onFocus={(e) => e.currentTarget.select()}
            />
            <button type="button" onClick={() => void copyText(made.address, field.current).then(setCopied)}>
              {t("share.copy")}
            </button>
          </div>
          <p className="muted small" role="status">
            {copied === true ? t("share.copied") : copied === false ? t("share.copyManually") : t("share.onlyNow")}
          </p>
        </div>
      )}
      <h3 className="small-title">{t("share.active")}</h3>
      {links.isPending ? (
        <p className="muted small">{t("common.working")}</p>
      ) : open.length === 0 ? (
        <p className="muted small">{t("share.none")}</p>
      ) : (
        <ul className="share-list">
          {open.map((link) => (
            <li key={link.id}>
              <span>{t("share.expires", { date: dateTime(link.expires_at, locale) })}</span>
              <span className="muted small"> · {t("share.created", { date: dateTime(link.created_at, locale) })}</span>{" "}
              <button
                type="button"
                className="small-btn danger-outline"
                disabled={revoke.isPending}
                aria-label={t("share.revokeLabel", { date: dateTime(link.expires_at, locale) })}
                onClick={() => void revokeLink(link.id)}
              >
                {t("share.revoke")}
              </button>
            </li>
          ))}
        </ul>
      )}
      <button type="button" className="link" onClick={onClose}>
        {t("common.close")}
      </button>
    </section>
  );
}
