import { useState, type FormEvent } from "react";
import { ApiError } from "../api/client";
import { useAuth } from "../auth";
import { errorText, useI18n, type MessageKey } from "../i18n";

// What the user asked for (not a session lost by surprise): said as done, not as a warning.
const DONE_NOTICES = new Set<MessageKey>(["auth.signedOutEverywhere", "auth.deleted"]);

export function SignIn() {
  const { t } = useI18n();
  const { signIn, signUp, notice } = useAuth();
  const [mode, setMode] = useState<"in" | "up">("in");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [info, setInfo] = useState<string | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setInfo(null);
    try {
      if (mode === "up") {
        await signUp(email, password);
        setInfo(t("auth.created"));
      }
      await signIn(email, password);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) setError(t("auth.wrong"));
      else if (err instanceof ApiError && err.status === 409) setError(t("auth.taken"));
      else setError(errorText(err, t));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="auth-page" id="main">
      <section className="card auth-card" aria-labelledby="auth-heading">
        <h1 id="auth-heading">{mode === "in" ? t("auth.signIn") : t("auth.signUp")}</h1>
        <p className="muted">{t("app.tagline")}</p>
        {notice && !error && (
          <p className={`alert ${DONE_NOTICES.has(notice) ? "ok" : "warn"}`} role="alert">
            {t(notice)}
          </p>
        )}
        {error && (
          <p className="alert error" role="alert">
            {error}
          </p>
        )}
        {info && !error && <p className="alert ok">{info}</p>}
        <form onSubmit={submit}>
          <div className="field">
            <label htmlFor="email">{t("auth.email")}</label>
            <input id="email" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="password">{t("auth.password")}</label>
            <input
              id="password"
              type="password"
              required
              minLength={8}
              autoComplete={mode === "in" ? "current-password" : "new-password"}
              aria-describedby="password-hint"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
            <small id="password-hint" className="muted">
              {t("auth.passwordHint")}
            </small>
          </div>
          <button type="submit" className="primary wide" disabled={busy}>
            {busy ? t("common.working") : mode === "in" ? t("auth.signIn") : t("auth.signUp")}
          </button>
        </form>
        <button type="button" className="link" onClick={() => { setMode(mode === "in" ? "up" : "in"); setError(null); }}>
          {mode === "in" ? t("auth.noAccount") : t("auth.haveAccount")}
        </button>
      </section>
    </main>
  );
}
