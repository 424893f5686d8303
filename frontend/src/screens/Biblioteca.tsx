import { useEffect, useState } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api, request, type Integrations, type JobStatus, type TranscriptSummary } from "../api/client";
import { allItems, keys, searchTerms, useTranscriptList } from "../api/queries";
import { TranscriptActions } from "../components/TranscriptActions";
import { useDebounced } from "../hooks/useDebounced";
import { errorText, languageName, useI18n, type MessageKey } from "../i18n";
import { languageDoubtful } from "../lib/languages";
import { clock, dateTime } from "../lib/format";
import { queryParam, replaceQuery } from "../router";

const STATUSES: Array<JobStatus | ""> = ["", "completed", "processing", "queued", "failed"];

function statusFromUrl(): JobStatus | "" {
  const value = queryParam("estado");
  return STATUSES.find((s) => s === value) ?? "";
}

/** A completed job that heard nothing: no text and no words to show. */
export function isSilent(item: Pick<TranscriptSummary, "status" | "preview">): boolean {
  return item.status === "completed" && !(item.preview ?? "").trim();
}

export function Biblioteca({ onOpen }: { onOpen: (id: string) => void }) {
  const { t } = useI18n();
  // The search and the filter live in the URL, so "Volver" and a reload keep them.
  const [search, setSearch] = useState(() => queryParam("q"));
  const [status, setStatus] = useState<JobStatus | "">(statusFromUrl);
  const query = useDebounced(searchTerms(search), 300);
  const [notice, setNotice] = useState<string | null>(null);
  const list = useTranscriptList(query, status);
  const items = allItems(list.data);

  useEffect(() => replaceQuery({ q: search, estado: status }), [search, status]);

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
      {list.error && (
        <p className="alert error" role="alert">
          {errorText(list.error, t)}
        </p>
      )}
      {notice && (
        <p className="alert ok" role="status">
          {notice}
        </p>
      )}
      {list.isSuccess && items.length === 0 && <p className="muted empty">{query || status ? t("lib.noMatch") : t("lib.empty")}</p>}
      <ul className="library" aria-busy={list.isFetching}>
        {items.map((item) => (
          <LibraryItem
            key={item.id}
            item={item}
            onOpen={onOpen}
            onDeleted={() => setNotice(t("lib.deleted"))}
            onNotice={setNotice}
          />
        ))}
      </ul>
      {list.hasNextPage && (
        <button type="button" onClick={() => void list.fetchNextPage()} disabled={list.isFetchingNextPage}>
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
  onDeleted,
  onNotice,
}: {
  item: TranscriptSummary;
  onOpen: (id: string) => void;
  onDeleted: () => void;
  onNotice: (text: string | null) => void;
}) {
  const { t, locale } = useI18n();
  const title = item.title || item.id;
  const silent = isSilent(item);
  const meta = [
    dateTime(item.created_at, locale),
    item.duration ? clock(item.duration) : "",
    !silent ? languageName(item.language, locale) : "",
    item.quality_profile ? t("lib.profile", { profile: t(`opts.${item.quality_profile}` as MessageKey) }) : "",
    item.tags.map((x) => `#${x}`).join(" "),
  ].filter(Boolean);
  return (
    <li className="card item" aria-label={title}>
      <div className="item-head">
        <h2>
          <button type="button" className="link title" onClick={() => onOpen(item.id)}>
            {title}
          </button>
        </h2>
        <span className="badges">
          {item.status === "completed" && !silent && languageDoubtful(item) && <span className="badge unsure">{t("lib.languageUnsure")}</span>}
          <span className={`badge ${item.status}`}>{t(`status.${item.status}`)}</span>
        </span>
      </div>
      <p className="muted small">{meta.join(" · ")}</p>
      {silent ? <p className="preview muted">{t("lib.noSpeech")}</p> : item.preview && <p className="preview">{item.preview}</p>}
      {item.status === "failed" && item.error && <p className="alert error">{item.error}</p>}
      <TranscriptActions
        item={item}
        onDeleted={onDeleted}
        onNotice={onNotice}
        before={
          <button type="button" onClick={() => onOpen(item.id)}>
            {t("lib.open")}
          </button>
        }
      />
    </li>
  );
}

type IntegrationName = "notion" | "trello" | "webhook";
const FIELDS: Record<IntegrationName, Array<{ name: string; secret?: boolean }>> = {
  notion: [{ name: "token", secret: true }, { name: "database_id" }],
  trello: [{ name: "key", secret: true }, { name: "token", secret: true }, { name: "list_id" }],
  webhook: [{ name: "url" }, { name: "secret", secret: true }],
};

function IntegrationsPanel() {
  const { t } = useI18n();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const saved = useQuery({ queryKey: keys.integrations, queryFn: () => request(api.GET("/me/integrations")), enabled: open });
  const [draft, setDraft] = useState<Record<string, Record<string, string>>>({});
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);

  async function save() {
    const body: Record<string, Record<string, string>> = {};
    for (const [integration, values] of Object.entries(draft)) {
      const changed = Object.fromEntries(Object.entries(values).filter(([, v]) => v.trim() !== ""));
      if (Object.keys(changed).length) body[integration] = changed;
    }
    try {
      const next = await request(api.PUT("/me/integrations", { body }));
      queryClient.setQueryData<Integrations>(keys.integrations, next);
      setDraft({});
      setMessage({ ok: true, text: t("lib.saved") });
    } catch (e) {
      setMessage({ ok: false, text: errorText(e, t) });
    }
  }

  return (
    <details className="card integrations" onToggle={(e) => setOpen((e.target as HTMLDetailsElement).open)}>
      <summary>{t("lib.integrations")}</summary>
      {saved.error && <p className="alert error">{errorText(saved.error, t)}</p>}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        {(Object.keys(FIELDS) as IntegrationName[]).map((integration) => (
          <fieldset key={integration}>
            <legend>{integration[0].toUpperCase() + integration.slice(1)}</legend>
            {FIELDS[integration].map((f) => {
              const current: Record<string, unknown> = saved.data?.[integration] ?? {};
              const isSet = f.secret && current[`${f.name}_set`] === true;
              const value = !f.secret && typeof current[f.name] === "string" ? String(current[f.name]) : "";
              const id = `int-${integration}-${f.name}`;
              return (
                <div className="field" key={f.name}>
                  <label htmlFor={id}>{t(`int.${integration}.${f.name}` as MessageKey)}</label>
                  {saved.data && !f.secret && (
                    <small className="muted saved-value" id={`${id}-current`}>
                      {value ? t("int.current", { value }) : t("int.notSet")}
                    </small>
                  )}
                  <input
                    id={id}
                    type={f.secret ? "password" : "text"}
                    autoComplete="off"
                    aria-describedby={saved.data && !f.secret ? `${id}-current` : undefined}
                    placeholder={isSet ? t("lib.secretSet") : ""}
                    value={draft[integration]?.[f.name] ?? ""}
                    onChange={(e) => setDraft((d) => ({ ...d, [integration]: { ...(d[integration] ?? {}), [f.name]: e.target.value } }))}
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
