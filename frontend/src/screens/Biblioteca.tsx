import { useCallback, useEffect, useState } from "react";
import {
  api,
  ApiError,
  downloadFile,
  unwrap,
  type ExportDestination,
  type Integrations,
  type JobStatus,
  type TranscriptPage,
  type TranscriptSummary,
} from "../api/client";
import { useDebounced } from "../hooks/useDebounced";
import { useI18n } from "../i18n";
import { clock, dateTime } from "../lib/format";

const STATUSES: Array<JobStatus | ""> = ["", "completed", "processing", "queued", "failed"];
const FORMATS = ["txt", "md", "srt", "vtt", "json"] as const;
const DESTINATIONS: ExportDestination[] = ["notion", "trello", "webhook"];

export function Biblioteca({ onOpen }: { onOpen: (id: string) => void }) {
  const { t } = useI18n();
  const [search, setSearch] = useState("");
  const [status, setStatus] = useState<JobStatus | "">("");
  const query = useDebounced(search.trim(), 300);
  const [items, setItems] = useState<TranscriptSummary[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const load = useCallback(
    async (after: string | null) => {
      setLoading(true);
      setError(null);
      try {
        const page = await unwrap<TranscriptPage>(
          api.GET("/transcripts", {
            params: { query: { search: query || undefined, status: status || undefined, limit: 20, cursor: after ?? undefined } },
          }),
        );
        setItems((prev) => (after ? [...prev, ...page.items] : page.items));
        setCursor(page.next_cursor);
      } catch (e) {
        setError(e instanceof ApiError && e.status === 0 ? t("common.networkError") : String((e as Error).message));
      } finally {
        setLoading(false);
      }
    },
    [query, status, t],
  );

  useEffect(() => {
    void load(null);
  }, [load]);

  // Jobs still running: refresh the list now and then so their status moves on.
  useEffect(() => {
    if (!items.some((i) => i.status === "queued" || i.status === "processing" || i.status === "live")) return;
    const timer = setTimeout(() => void load(null), 3000);
    return () => clearTimeout(timer);
  }, [items, load]);

  const replace = (next: TranscriptSummary) => setItems((prev) => prev.map((i) => (i.id === next.id ? { ...i, ...next } : i)));

  return (
    <main id="main" className="screen">
      <h1>{t("lib.heading")}</h1>
      <section className="card">
        <div className="field">
          <label htmlFor="lib-search">{t("lib.search")}</label>
          <input id="lib-search" type="search" value={search} onChange={(e) => setSearch(e.target.value)} />
        </div>
        <div className="chips" role="group" aria-label={t("lib.filter")}>
          {STATUSES.map((s) => (
            <button key={s || "all"} type="button" className={`chip${status === s ? " on" : ""}`} aria-pressed={status === s} onClick={() => setStatus(s)}>
              {s ? t(`status.${s}`) : t("lib.all")}
            </button>
          ))}
        </div>
      </section>
      {error && (
        <p className="alert error" role="alert">
          {error}
        </p>
      )}
      {notice && (
        <p className="alert ok" role="status">
          {notice}
        </p>
      )}
      {!loading && !error && items.length === 0 && <p className="muted empty">{query || status ? t("lib.noMatch") : t("lib.empty")}</p>}
      <ul className="library" aria-busy={loading}>
        {items.map((item) => (
          <LibraryItem
            key={item.id}
            item={item}
            onOpen={onOpen}
            onChanged={replace}
            onDeleted={() => {
              setItems((prev) => prev.filter((i) => i.id !== item.id));
              setNotice(t("lib.deleted"));
            }}
            onNotice={setNotice}
          />
        ))}
      </ul>
      {cursor && (
        <button type="button" onClick={() => void load(cursor)} disabled={loading}>
          {t("lib.more")}
        </button>
      )}
      <IntegrationsPanel />
    </main>
  );
}

function LibraryItem({
  item,
  onOpen,
  onChanged,
  onDeleted,
  onNotice,
}: {
  item: TranscriptSummary;
  onOpen: (id: string) => void;
  onChanged: (item: TranscriptSummary) => void;
  onDeleted: () => void;
  onNotice: (text: string | null) => void;
}) {
  const { t, locale } = useI18n();
  const title = item.title || item.id;
  const [renaming, setRenaming] = useState(false);
  const [newTitle, setNewTitle] = useState(title);
  const [confirming, setConfirming] = useState(false);
  const [format, setFormat] = useState<(typeof FORMATS)[number]>("txt");
  const [destination, setDestination] = useState<ExportDestination>("notion");
  const [error, setError] = useState<string | null>(null);
  const completed = item.status === "completed";

  const run = async (action: () => Promise<void>) => {
    setError(null);
    onNotice(null);
    try {
      await action();
    } catch (e) {
      setError((e as Error).message);
    }
  };

  return (
    <li className="card item" aria-label={title}>
      <div className="item-head">
        <h2>
          <button type="button" className="link title" onClick={() => onOpen(item.id)}>
            {title}
          </button>
        </h2>
        <span className={`badge ${item.status}`}>{t(`status.${item.status}`)}</span>
      </div>
      <p className="muted small">
        {dateTime(item.created_at, locale)}
        {item.duration ? ` · ${clock(item.duration)}` : ""}
        {item.language ? ` · ${item.language}` : ""}
        {item.tags.length ? ` · ${item.tags.map((x) => `#${x}`).join(" ")}` : ""}
      </p>
      {item.preview && <p className="preview">{item.preview}</p>}
      {item.status === "failed" && item.error && <p className="alert error">{item.error}</p>}
      {error && (
        <p className="alert error" role="alert">
          {error}
        </p>
      )}
      {renaming ? (
        <form
          className="inline"
          onSubmit={(e) => {
            e.preventDefault();
            void run(async () => {
              const updated = await unwrap<TranscriptSummary>(
                api.PATCH("/transcripts/{transcript_id}", { params: { path: { transcript_id: item.id } }, body: { title: newTitle } }),
              );
              onChanged({ ...item, ...updated, id: item.id, title: updated.title ?? newTitle });
              setRenaming(false);
            });
          }}
        >
          <label className="visually-hidden" htmlFor={`title-${item.id}`}>
            {t("lib.newTitle")}
          </label>
          <input id={`title-${item.id}`} value={newTitle} onChange={(e) => setNewTitle(e.target.value)} autoFocus required maxLength={200} />
          <button type="submit" className="primary">
            {t("common.save")}
          </button>
          <button type="button" onClick={() => setRenaming(false)}>
            {t("common.cancel")}
          </button>
        </form>
      ) : confirming ? (
        <div className="alert warn" role="alertdialog" aria-label={t("lib.delete")}>
          <p>{t("lib.confirmDelete", { title })}</p>
          <div className="actions">
            <button
              type="button"
              className="danger"
              onClick={() =>
                void run(async () => {
                  await unwrap(api.DELETE("/transcripts/{transcript_id}", { params: { path: { transcript_id: item.id } } }));
                  onDeleted();
                })
              }
            >
              {t("lib.yesDelete")}
            </button>
            <button type="button" onClick={() => setConfirming(false)} autoFocus>
              {t("common.cancel")}
            </button>
          </div>
        </div>
      ) : (
        <div className="item-actions" role="group" aria-label={t("lib.actions", { title })}>
          <button type="button" onClick={() => onOpen(item.id)}>
            {t("lib.open")}
          </button>
          <button type="button" onClick={() => { setNewTitle(title); setRenaming(true); }}>
            {t("lib.rename")}
          </button>
          {completed && (
            <span className="combo">
              <label className="visually-hidden" htmlFor={`fmt-${item.id}`}>
                {t("lib.format")}
              </label>
              <select id={`fmt-${item.id}`} value={format} onChange={(e) => setFormat(e.target.value as typeof format)}>
                {FORMATS.map((f) => (
                  <option key={f} value={f}>
                    {f.toUpperCase()}
                  </option>
                ))}
              </select>
              <button
                type="button"
                onClick={() => void run(() => downloadFile(`/transcripts/${item.id}/download?format=${format}`, `${title}.${format}`))}
              >
                {t("lib.download")}
              </button>
            </span>
          )}
          {completed && (
            <span className="combo">
              <label className="visually-hidden" htmlFor={`dst-${item.id}`}>
                {t("lib.destination")}
              </label>
              <select id={`dst-${item.id}`} value={destination} onChange={(e) => setDestination(e.target.value as ExportDestination)}>
                {DESTINATIONS.map((d) => (
                  <option key={d} value={d}>
                    {d[0].toUpperCase() + d.slice(1)}
                  </option>
                ))}
              </select>
              <button
                type="button"
                onClick={() =>
                  void run(async () => {
                    await unwrap(
                      api.POST("/transcripts/{transcript_id}/export", {
                        params: { path: { transcript_id: item.id } },
                        body: { destination },
                      }),
                    );
                    onNotice(t("lib.sent", { destination }));
                  })
                }
              >
                {t("lib.send")}
              </button>
            </span>
          )}
          <button type="button" className="danger-outline" onClick={() => setConfirming(true)}>
            {t("lib.delete")}
          </button>
        </div>
      )}
    </li>
  );
}

const FIELDS: Record<string, Array<{ name: string; secret?: boolean; label: string }>> = {
  notion: [
    { name: "token", secret: true, label: "Token" },
    { name: "database_id", label: "Database ID" },
  ],
  trello: [
    { name: "key", secret: true, label: "API key" },
    { name: "token", secret: true, label: "Token" },
    { name: "list_id", label: "List ID" },
  ],
  webhook: [
    { name: "url", label: "URL" },
    { name: "secret", secret: true, label: "Secret (HMAC)" },
  ],
};

function IntegrationsPanel() {
  const { t } = useI18n();
  const [saved, setSaved] = useState<Integrations | null>(null);
  const [draft, setDraft] = useState<Record<string, Record<string, string>>>({});
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [open, setOpen] = useState(false);

  useEffect(() => {
    if (!open || saved) return;
    unwrap<Integrations>(api.GET("/me/integrations"))
      .then(setSaved)
      .catch((e) => setMessage({ ok: false, text: (e as Error).message }));
  }, [open, saved]);

  async function save() {
    const body: Record<string, Record<string, string>> = {};
    for (const [integration, values] of Object.entries(draft)) {
      const changed = Object.fromEntries(Object.entries(values).filter(([, v]) => v.trim() !== ""));
      if (Object.keys(changed).length) body[integration] = changed;
    }
    try {
      const next = await unwrap<Integrations>(api.PUT("/me/integrations", { body }));
      setSaved(next);
      setDraft({});
      setMessage({ ok: true, text: t("lib.saved") });
    } catch (e) {
      setMessage({ ok: false, text: (e as Error).message });
    }
  }

  return (
    <details className="card integrations" onToggle={(e) => setOpen((e.target as HTMLDetailsElement).open)}>
      <summary>{t("lib.integrations")}</summary>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        {Object.entries(FIELDS).map(([integration, fields]) => (
          <fieldset key={integration}>
            <legend>{integration[0].toUpperCase() + integration.slice(1)}</legend>
            {fields.map((f) => {
              const current = (saved?.[integration as keyof Integrations] ?? {}) as Record<string, unknown>;
              const isSet = f.secret && current[`${f.name}_set`] === true;
              const id = `int-${integration}-${f.name}`;
              return (
                <div className="field" key={f.name}>
                  <label htmlFor={id}>{f.label}</label>
                  <input
                    id={id}
                    type={f.secret ? "password" : "text"}
                    autoComplete="off"
                    placeholder={isSet ? t("lib.secretSet") : f.secret ? "" : String(current[f.name] ?? "")}
                    value={draft[integration]?.[f.name] ?? ""}
                    onChange={(e) =>
                      setDraft((d) => ({ ...d, [integration]: { ...(d[integration] ?? {}), [f.name]: e.target.value } }))
                    }
                  />
                </div>
              );
            })}
          </fieldset>
        ))}
        {message && (
          <p className={`alert ${message.ok ? "ok" : "error"}`} role="status">
            {message.text}
          </p>
        )}
        <button type="submit" className="primary">
          {t("common.save")}
        </button>
      </form>
    </details>
  );
}
