import { AuthProvider, useAuth } from "./auth";
import { I18nProvider, useI18n } from "./i18n";
import { usePath } from "./router";
import { Biblioteca } from "./screens/Biblioteca";
import { Grabar } from "./screens/Grabar";
import { SignIn } from "./screens/SignIn";
import { Transcribir } from "./screens/Transcribir";
import { TranscriptDetail } from "./screens/TranscriptDetail";

function Header({ path, navigate }: { path: string; navigate: (to: string) => void }) {
  const { t, locale, setLocale } = useI18n();
  const { session, signOut } = useAuth();
  const tabs = [
    { to: "/", label: t("nav.transcribe"), active: path === "/" || path === "/transcribir" },
    { to: "/grabar", label: t("nav.record"), active: path === "/grabar" },
    { to: "/biblioteca", label: t("nav.library"), active: path.startsWith("/biblioteca") },
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
          <button type="button" className="link" onClick={signOut} title={t("auth.signedInAs", { email: session.email })}>
            {t("auth.signOut")}
          </button>
        )}
      </div>
    </header>
  );
}

function Screens() {
  const { session } = useAuth();
  const [path, navigate] = usePath();
  const open = (id: string) => navigate(`/biblioteca/${id}`);
  let screen;
  if (!session) screen = <SignIn />;
  else if (path === "/grabar") screen = <Grabar onOpen={open} />;
  else if (path.startsWith("/biblioteca/")) screen = <TranscriptDetail id={decodeURIComponent(path.slice(12))} onBack={() => navigate("/biblioteca")} />;
  else if (path === "/biblioteca") screen = <Biblioteca onOpen={open} />;
  else screen = <Transcribir onOpen={open} />;
  return (
    <>
      <a className="skip" href="#main">
        ↓
      </a>
      <Header path={path} navigate={navigate} />
      {screen}
    </>
  );
}

export function App() {
  return (
    <I18nProvider>
      <AuthProvider>
        <Screens />
      </AuthProvider>
    </I18nProvider>
  );
}
