import { useUsage } from "../api/queries";
import { ProgressBar } from "../components/JobView";
import { errorText, useI18n } from "../i18n";
import { clock } from "../lib/format";

/** This month's transcribed audio against the monthly quota, and what jobs in flight hold of it (GET /me/usage). */
export function Uso() {
  const { t } = useI18n();
  const usage = useUsage();
  const data = usage.data;
  return (
    <main id="main" className="screen">
      <h1>{t("usage.heading")}</h1>
      {usage.error && (
        <p className="alert error" role="alert">
          {errorText(usage.error, t)}
        </p>
      )}
      {data && (
        <section className="card usage" aria-label={t("usage.heading")}>
          <p className="usage-used">{t("usage.used", { used: clock(data.audio_seconds), month: data.month })}</p>
          {data.quota_seconds ? (
            <>
              <ProgressBar value={data.audio_seconds / data.quota_seconds} label={t("usage.bar")} />
              <p>{t("usage.quota", { quota: clock(data.quota_seconds), left: clock(data.remaining_seconds ?? Math.max(0, data.quota_seconds - data.audio_seconds)) })}</p>
            </>
          ) : (
            <p className="muted">{t("usage.unlimited")}</p>
          )}
          {(data.reserved_seconds ?? 0) > 0 && (
            <p className="usage-reserved">
              {t("usage.reserved", { reserved: clock(data.reserved_seconds ?? 0), n: data.jobs_in_flight ?? 0 })}
              <span className="muted small"> {t("usage.reservedHelp")}</span>
            </p>
          )}
          <p className="muted small">{t("usage.jobs", { n: data.jobs })}</p>
        </section>
      )}
    </main>
  );
}
