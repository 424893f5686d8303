import { useState, type ReactNode } from "react";
import { api, downloadFile, unwrap, type ExportDestination, type TranscriptSummary } from "../api/client";
import { useQueryClient } from "@tanstack/react-query";
import { keys, useDeleteTranscript, useUpdateTranscript } from "../api/queries";
import { errorText, useI18n } from "../i18n";

const FORMATS = ["txt", "md", "srt", "vtt", "json"] as const;
const DESTINATIONS: ExportDestination[] = ["notion", "trello", "webhook"];

export function parseTags(text: string): string[] {
  return [
    ...new Set(
      text
        .split(",")
        .map((t) => t.trim().replace(/^#+/, ""))
        .filter(Boolean),
    ),
  ];
}

/** Rename, tags, download, send and delete: the same actions in the library and on the transcript page. */
export function TranscriptActions({
  item,
  onDeleted,
  onNotice,
  before,
  onShare,
  sharing = false,
}: {
  item: Pick<TranscriptSummary, "id" | "title" | "status" | "tags">;
  onDeleted: () => void;
  onNotice: (text: string | null) => void;
  before?: ReactNode;
  /** Where the transcript page opens its share links (a completed transcript only). */
  onShare?: () => void;
  sharing?: boolean;
}) {
  const { t } = useI18n();
  const title = item.title || item.id;
  const [mode, setMode] = useState<"idle" | "rename" | "tags" | "delete">("idle");
  const [draft, setDraft] = useState("");
  const [format, setFormat] = useState<(typeof FORMATS)[number]>("txt");
  const [destination, setDestination] = useState<ExportDestination>("notion");
  const [error, setError] = useState<string | null>(null);
  const update = useUpdateTranscript(item.id);
  const remove = useDeleteTranscript(item.id);
  const queryClient = useQueryClient();
  const completed = item.status === "completed";

  const run = async (action: () => Promise<void>) => {
    setError(null);
    onNotice(null);
    try {
      await action();
    } catch (e) {
      setError(errorText(e, t));
    }
  };

  const errorBox = error && (
    <p className="alert error" role="alert">
      {error}
    </p>
  );

  if (mode === "rename" || mode === "tags")
    return (
      <>
        {errorBox}
        <form
          className="inline"
          onSubmit={(e) => {
            e.preventDefault();
            void run(async () => {
              await update.mutateAsync(mode === "rename" ? { title: draft } : { tags: parseTags(draft) });
              setMode("idle");
            });
          }}
        >
          <label className="visually-hidden" htmlFor={`${mode}-${item.id}`}>
            {mode === "rename" ? t("lib.newTitle") : t("lib.tags")}
          </label>
          <input
            id={`${mode}-${item.id}`}
            value={draft}
            onChange={(e) => setDraft(e.target.value)}
            autoFocus
            required={mode === "rename"}
            maxLength={mode === "rename" ? 200 : 500}
            placeholder={mode === "tags" ? t("opts.tagsHint") : undefined}
          />
          <button type="submit" className="primary" disabled={update.isPending}>
            {t("common.save")}
          </button>
          <button type="button" onClick={() => setMode("idle")}>
            {t("common.cancel")}
          </button>
        </form>
      </>
    );

  if (mode === "delete")
    return (
      <div className="alert warn" role="alertdialog" aria-label={t("lib.delete")}>
        {errorBox}
        <p>{t("lib.confirmDelete", { title })}</p>
        <div className="actions">
          <button
            type="button"
            className="danger"
            disabled={remove.isPending}
            onClick={() =>
              void run(async () => {
                await remove.mutateAsync();
                onDeleted();
              })
            }
          >
            {t("lib.yesDelete")}
          </button>
          <button type="button" onClick={() => setMode("idle")} autoFocus>
            {t("common.cancel")}
          </button>
        </div>
      </div>
    );

  return (
    <>
      {errorBox}
      <div className="item-actions" role="group" aria-label={t("lib.actions", { title })}>
        {before}
        <button type="button" onClick={() => { setDraft(title); setMode("rename"); }}>
          {t("lib.rename")}
        </button>
        <button type="button" onClick={() => { setDraft(item.tags.join(", ")); setMode("tags"); }}>
          {t("lib.editTags")}
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
            <button type="button" onClick={() => void run(() => downloadFile(`/transcripts/${item.id}/download?format=${format}`, `${title}.${format}`))}>
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
                  await unwrap(api.POST("/transcripts/{transcript_id}/export", { params: { path: { transcript_id: item.id } }, body: { destination } }));
                  void queryClient.invalidateQueries({ queryKey: keys.transcript(item.id) });
                  onNotice(t("lib.sent", { destination: destination[0].toUpperCase() + destination.slice(1) }));
                })
              }
            >
              {t("lib.send")}
            </button>
          </span>
        )}
        {completed && onShare && (
          <button type="button" onClick={onShare} aria-expanded={sharing} aria-controls="share-links">
            {t("share.open")}
          </button>
        )}
        <button type="button" className="danger-outline" onClick={() => setMode("delete")}>
          {t("lib.delete")}
        </button>
      </div>
    </>
  );
}
