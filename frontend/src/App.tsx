import { QueryClientProvider } from "@tanstack/react-query";
import { useState } from "react";
import { createQueryClient } from "./api/queries";
import { AuthProvider, useAuth } from "./auth";
import { CurrentJobProvider } from "./hooks/useCurrentJob";
import { I18nProvider, useI18n } from "./i18n";
import { usePath } from "./router";
import { Biblioteca } from "./screens/Biblioteca";
import { Cuenta } from "./screens/Cuenta";
import { Grabar } from "./screens/Grabar";
import { SignIn } from "./screens/SignIn";
import { SharedTranscript } from "./screens/SharedTranscript";
import { Transcribir } from "./screens/Transcribir";
import { TranscriptDetail } from "./screens/TranscriptDetail";
import { Uso } from "./screens/Uso";

// The library's URL with its search and filters, so "Volver" comes back to the same list.
let libraryUrl = "/biblioteca";

/** A share link's page: public, outside any account. */
const SHARED_PREFIX = "/compartido/";

function Header({ path, navigate }: { path: string; navigate: (to: string) => void }) {
  const { t, locale, setLocale } = useI18n();
  const auth = useAuth();
  // A shared page shows nothing of the account that may be signed in on this browser.
  const session = path.startsWith(SHARED_PREFIX) ? null : auth.session;
  const signOut = auth.signOut;
  const tabs = [
    { to: "/", label: t("nav.transcribe"), active: path === "/" || path === "/transcribir" },
    { to: "/grabar", label: t("nav.record"), active: path === "/grabar" },
    { to: "/biblioteca", label: t("nav.library"), active: path.startsWith("/biblioteca") },
    { to: "/uso", label: t("nav.usage"), active: path === "/uso" },
    { to: "/cuenta", label: t("nav.account"), active: path === "/cuenta" },
  ];
  return (
    <header className="topbar">
      <div className="brand">
        <span className="logo" aria-hidden="true" />
        {t("app.name")}
      </div>
      {session && (
        <nav aria-label={t("nav.main")}>
          {tabs.map((tab) => (
            <a
              key={tab.to}
              href={tab.to}
              aria-current={tab.active ? "page" : undefined}
              onClick={(e) => {
                e.preventDefault();
                navigate(tab.to);
              }}
            >
              {tab.label}
            </a>
          ))}
        </nav>
      )}
      <div className="tools">
        <button type="button" className="link" lang={locale === "es" ? "en" : "es"} aria-label={t("lang.switchLabel")} onClick={() => setLocale(locale === "es" ? "en" : "es")}>
          {t("lang.switch")}
        </button>
        {session && (
          <button type="button" className="link" onClick={() => signOut()} title={t("auth.signedInAs", { email: session.email })}>
            {t("auth.signOut")}
          </button>
        )}
      </div>
    </header>
  );
}

function Screens() {
  const { t } = useI18n();
  const { session } = useAuth();
  const [path, navigate] = usePath();
  const open = (id: string) => {
    if (window.location.pathname === "/biblioteca") libraryUrl = "/biblioteca" + window.location.search;
    navigate(`/biblioteca/${id}`);
  };
  let screen;
  if (path.startsWith(SHARED_PREFIX)) screen = <SharedTranscript token={decodeURIComponent(path.slice(SHARED_PREFIX.length))} />;
  else if (!session) screen = <SignIn />;
  else if (path === "/grabar") screen = <Grabar onOpen={open} />;
  else if (path.startsWith("/biblioteca/")) screen = <TranscriptDetail id={decodeURIComponent(path.slice(12))} onBack={() => navigate(libraryUrl)} onOpen={open} />;
  else if (path === "/uso") screen = <Uso />;
  else if (path === "/cuenta") screen = <Cuenta />;
  else if (path === "/biblioteca") screen = <Biblioteca onOpen={open} />;
  else screen = <Transcribir onOpen={open} />;
  return (
    <>
      <a className="skip" href="#main">
        {t("skip")}
      </a>
      <Header path={path} navigate={navigate} />
      {screen}
    </>
  );
}

/** What belongs to one signed-in session (the running job) starts afresh with each account. */
function SessionScoped() {
  const { session } = useAuth();
  return (
    <CurrentJobProvider key={session?.email ?? ""}>
      <Screens />
    </CurrentJobProvider>
  );
}

export function App() {
  const [queryClient] = useState(createQueryClient);
  return (
    <I18nProvider>
      <QueryClientProvider client={queryClient}>
        <AuthProvider>
          <SessionScoped />
        </AuthProvider>
      </QueryClientProvider>
    </I18nProvider>
  );
}
