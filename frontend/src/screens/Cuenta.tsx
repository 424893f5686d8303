import { useId, useState } from "react";
import { useDeleteAccount, useLanguages, useSaveLanguages, useSignOutEverywhere } from "../api/queries";
import { useAuth } from "../auth";
import { LanguagesEditor } from "../components/LanguagesEditor";
import { errorText, useI18n } from "../i18n";

/** The typed confirmation matches the account's e-mail (case and surrounding spaces aside). */
export function confirmsEmail(typed: string, email: string): boolean {
  return typed.trim().toLowerCase() === email.trim().toLowerCase() && email.trim() !== "";
}

/** The account: the languages its owner speaks, its sessions, and deleting it. */
export function Cuenta() {
  const { t } = useI18n();
  const { session, signOut } = useAuth();
  const email = session?.email ?? "";
  const languages = useLanguages();
  const saveLanguages = useSaveLanguages();
  const everywhere = useSignOutEverywhere();
  const remove = useDeleteAccount();
  const [confirming, setConfirming] = useState(false);
  const [typed, setTyped] = useState("");
  const id = useId();

  return (
    <main id="main" className="screen account">
      <h1>{t("account.heading")}</h1>

      <section className="card">
        {languages.error && (
          <p className="alert error" role="alert">
            {errorText(languages.error, t)}
          </p>
        )}
        {languages.isPending && !languages.error && <p className="muted">{t("common.working")}</p>}
        {languages.data && <LanguagesEditor languages={languages.data} onSave={(next) => saveLanguages.mutateAsync(next)} />}
      </section>

      <section className="card" aria-labelledby={`${id}-sessions`}>
        <h2 id={`${id}-sessions`}>{t("sessions.heading")}</h2>
        <p className="muted small">{t("sessions.hint", { email })}</p>
        {everywhere.error && (
          <p className="alert error" role="alert">
            {errorText(everywhere.error, t)}
          </p>
        )}
        <button
          type="button"
          disabled={everywhere.isPending}
          onClick={() => everywhere.mutate(undefined, { onSuccess: () => signOut("auth.signedOutEverywhere") })}
        >
          {everywhere.isPending ? t("common.working") : t("sessions.everywhere")}
        </button>
      </section>

      <section className="card danger-zone" aria-labelledby={`${id}-delete`}>
        <h2 id={`${id}-delete`}>{t("delete.heading")}</h2>
        <p className="small">{t("delete.hint")}</p>
        {remove.error && (
          <p className="alert error" role="alert">
            {errorText(remove.error, t)}
          </p>
        )}
        {!confirming ? (
          <button type="button" className="danger-outline" onClick={() => setConfirming(true)}>
            {t("delete.start")}
          </button>
        ) : (
          <form
            onSubmit={(e) => {
              e.preventDefault();
              if (!confirmsEmail(typed, email) || remove.isPending) return;
              remove.mutate(undefined, { onSuccess: () => signOut("auth.deleted") });
            }}
          >
            <div className="field">
              <label htmlFor={`${id}-confirm`}>{t("delete.confirmLabel", { email })}</label>
              <input id={`${id}-confirm`} type="email" autoComplete="off" autoFocus value={typed} onChange={(e) => setTyped(e.target.value)} />
            </div>
            <div className="actions">
              <button type="submit" className="danger" disabled={!confirmsEmail(typed, email) || remove.isPending}>
                {remove.isPending ? t("common.working") : t("delete.confirm")}
              </button>
              <button
                type="button"
                onClick={() => {
                  setConfirming(false);
                  setTyped("");
                }}
              >
                {t("common.cancel")}
              </button>
            </div>
          </form>
        )}
      </section>
    </main>
  );
}
