// The account's languages, sessions and the unsure-language banner, through the whole app with
// the API answered by a fake fetch (openapi-fetch takes `fetch` when the client is created, so
// it is replaced before any module loads).
import { act, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

type Route = (request: Request) => Response | Promise<Response>;
const fake = vi.hoisted(() => {
  const state = { routes: new Map<string, Route>(), calls: [] as Array<{ method: string; path: string; body: unknown }> };
  globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(String(input), init);
    const url = new URL(request.url);
    const text = request.method === "GET" || request.method === "HEAD" ? "" : await request.clone().text();
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = text; // a form (POST /auth/token)
    }
    state.calls.push({ method: request.method, path: url.pathname, body });
    const route = state.routes.get(`${request.method} ${url.pathname}`);
    if (!route) return new Response(JSON.stringify({ detail: "Not Found", code: "not_found" }), { status: 404, headers: { "Content-Type": "application/json" } });
    return route(request);
  }) as typeof fetch;
  return state;
});

import { App } from "./App";
import { signedOutNotice } from "./auth";
import { LanguagesEditor } from "./components/LanguagesEditor";
import { translate, warningText } from "./i18n";
import { languageDoubtful, languageList, languagesByName, moveItem, suggestedLanguage } from "./lib/languages";
import { confirmsEmail } from "./screens/Cuenta";
import { languageSourceKey } from "./screens/TranscriptDetail";

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
const es = (key: Parameters<typeof translate>[1], vars?: Record<string, string | number>) => translate("es", key, vars);

function signedIn(path: string) {
  localStorage.setItem("grabadora.session", JSON.stringify({ token: "tok-1", email: "ana@example.com", expiresAt: Date.now() + 3600_000 }));
  window.history.pushState(null, "", path);
}

beforeEach(() => {
  fake.routes.clear();
  fake.calls.length = 0;
});
afterEach(() => window.history.pushState(null, "", "/"));

describe("language helpers", () => {
  it("moves, names and lists languages", () => {
    expect(moveItem(["es", "en", "ca"], 1, 0)).toEqual(["en", "es", "ca"]);
    expect(moveItem(["es", "en"], 1, 2)).toEqual(["es", "en"]);
    const byName = languagesByName("es", ["es"]);
    expect(byName).not.toContain("es");
    expect(byName.indexOf("de")).toBeLessThan(byName.indexOf("en")); // Alemán before Inglés
    expect(byName).toHaveLength(99);
    expect(languageList(["en", "es"], "es")).toBe("Inglés y Español");
  });

  it("knows a doubtful language and what to try instead", () => {
    expect(languageDoubtful({ language_unsure: false, language_source: "preferred_fallback" })).toBe(true);
    expect(languageDoubtful({ language_unsure: true, language_source: "detected" })).toBe(true);
    expect(languageDoubtful({ language_unsure: false, language_source: "detected" })).toBe(false);
    expect(suggestedLanguage("en", ["en", "es"], "es")).toBe("es");
    expect(suggestedLanguage("en", ["en"], "es", ["en-US", "pt-BR"])).toBe("pt"); // the browser's next
    expect(suggestedLanguage("en", ["en"], "es", ["en-GB"])).toBe("es"); // the interface's
    expect(suggestedLanguage("es", ["es"], "es")).toBe("af"); // the first other one by name
    expect(languageSourceKey({ language_source: "forced", language_unsure: false })).toBe("lang.forced");
    expect(languageSourceKey({ language_source: "preferred_fallback", language_unsure: true })).toBe("lang.unsure");
    expect(languageSourceKey({ language_source: null, language_unsure: false })).toBeNull();
  });

  it("says why the session ended, by the server's code", () => {
    expect(signedOutNotice("session_revoked")).toBe("auth.revoked");
    expect(signedOutNotice("account_gone")).toBe("auth.gone");
    expect(signedOutNotice("session_expired")).toBe("auth.expired");
    expect(signedOutNotice(null)).toBe("auth.expired");
    expect(es("auth.revoked")).not.toBe(es("auth.expired"));
  });

  it("translates the truncated-file warning, and shows others as written", () => {
    const warning = "the file seems cut short: its header declares 12.4 s of audio but only 6.0 s could be decoded; the transcript covers that part";
    expect(warningText(warning, es, "es")).toBe(
      "Aviso: el archivo parece cortado: su cabecera anuncia 12,4 s de audio, pero solo se pudieron leer 6 s. La transcripción cubre esa parte.",
    );
    expect(warningText("something else", es, "es")).toBe("Aviso: something else");
  });

  it("asks for the account's e-mail to delete it", () => {
    expect(confirmsEmail(" Ana@Example.com ", "ana@example.com")).toBe(true);
    expect(confirmsEmail("ana@example", "ana@example.com")).toBe(false);
    expect(confirmsEmail("", "")).toBe(false);
  });
});

describe("languages editor", () => {
  it("reorders, removes and adds by name, and saves the whole list", async () => {
    const onSave = vi.fn().mockResolvedValue(undefined);
    render(<LanguagesEditor languages={["es", "en", "fr"]} onSave={onSave} />);
    const list = screen.getByRole("list", { name: "Tus idiomas, el preferido primero" });
    expect(within(list).getAllByRole("listitem").map((li) => li.getAttribute("aria-label"))).toEqual(["Español", "Inglés", "Francés"]);
    expect(screen.getByRole("button", { name: "Guardar idiomas" })).toBeDisabled();
    expect(screen.getByRole("button", { name: "Subir Español" })).toBeDisabled();

    fireEvent.click(screen.getByRole("button", { name: "Subir Inglés" }));
    fireEvent.click(screen.getByRole("button", { name: "Quitar Francés" }));
    fireEvent.change(screen.getByLabelText("Añadir un idioma"), { target: { value: "ca" } });
    fireEvent.click(screen.getByRole("button", { name: "Añadir" }));
    expect(within(list).getAllByRole("listitem").map((li) => li.getAttribute("aria-label"))).toEqual(["Inglés", "Español", "Catalán"]);
    expect(within(list).getAllByRole("listitem")[0]).toHaveTextContent("Preferido");
    expect(screen.getByRole("status")).toHaveTextContent("Hay cambios sin guardar");

    fireEvent.click(screen.getByRole("button", { name: "Guardar idiomas" }));
    await waitFor(() => expect(onSave).toHaveBeenCalledWith(["en", "es", "ca"]));
    expect(await screen.findByText("Idiomas guardados.")).toBeInTheDocument();
  });

  it("keeps at least one language", () => {
    render(<LanguagesEditor languages={["es"]} onSave={vi.fn()} />);
    expect(screen.getByRole("button", { name: "Quitar Español" })).toBeDisabled();
  });
});

describe("the account page", () => {
  it("loads the languages, saves them with PUT /me/languages and shows them in the options form", async () => {
    let saved = ["es", "en"];
    fake.routes.set("GET /me/languages", () => json({ languages: saved }));
    fake.routes.set("PUT /me/languages", async (r) => {
      saved = ((await r.json()) as { languages: string[] }).languages;
      return json({ languages: saved });
    });
    signedIn("/cuenta");
    render(<App />);
    fireEvent.click(await screen.findByRole("button", { name: "Subir Inglés" }));
    fireEvent.click(screen.getByRole("button", { name: "Guardar idiomas" }));
    expect(await screen.findByText("Idiomas guardados.")).toBeInTheDocument();
    expect(fake.calls.find((c) => c.method === "PUT")?.body).toEqual({ languages: ["en", "es"] });

    // The options form on Transcribir: detection among them by default, "any", or one language.
    fireEvent.click(screen.getByRole("link", { name: "Transcribir" }));
    const select = await screen.findByLabelText("Idioma");
    expect(select).toHaveValue("");
    expect(within(select).getByRole("option", { name: "Detectar entre mis idiomas" })).toBeInTheDocument();
    expect(within(select).getByRole("option", { name: "Cualquier idioma" })).toHaveValue("any");
    expect(await screen.findByText("Se detecta entre Inglés y Español; cámbialos en «Cuenta».")).toBeInTheDocument();
    const mine = within(select).getByRole("group", { name: "Tus idiomas" });
    expect(within(mine).getAllByRole("option").map((o) => o.textContent)).toEqual(["Inglés", "Español"]);
  });

  it("signs out everywhere, then here, with its own message", async () => {
    fake.routes.set("GET /me/languages", () => json({ languages: ["es"] }));
    fake.routes.set("POST /me/sign-out-everywhere", () => new Response(null, { status: 204 }));
    signedIn("/cuenta");
    render(<App />);
    fireEvent.click(await screen.findByRole("button", { name: "Cerrar sesión en todos los dispositivos" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Has cerrado la sesión en todos tus dispositivos");
    expect(localStorage.getItem("grabadora.session")).toBeNull();
    expect(screen.getByLabelText("Correo electrónico")).toBeInTheDocument();
  });

  it("deletes the account only once its e-mail is typed", async () => {
    fake.routes.set("GET /me/languages", () => json({ languages: ["es"] }));
    fake.routes.set("DELETE /me", () => new Response(null, { status: 204 }));
    signedIn("/cuenta");
    render(<App />);
    fireEvent.click(await screen.findByRole("button", { name: "Eliminar mi cuenta…" }));
    const confirm = screen.getByRole("button", { name: "Eliminar mi cuenta para siempre" });
    expect(confirm).toBeDisabled();
    fireEvent.change(screen.getByLabelText("Para confirmar, escribe tu correo: ana@example.com"), { target: { value: "ana@example.com" } });
    expect(confirm).toBeEnabled();
    expect(fake.calls.some((c) => c.method === "DELETE")).toBe(false);
    fireEvent.click(confirm);
    expect(await screen.findByRole("alert")).toHaveTextContent("Tu cuenta y todo lo que contenía se han eliminado");
    expect(fake.calls.filter((c) => c.method === "DELETE").map((c) => c.path)).toEqual(["/me"]);
    expect(localStorage.getItem("grabadora.session")).toBeNull();
  });
});

describe("a session ended elsewhere", () => {
  it.each([
    ["session_revoked", "Tu sesión se cerró desde otro dispositivo"],
    ["account_gone", "Esta cuenta ya no existe"],
    ["session_expired", "Tu sesión ha caducado"],
  ])("a 401 with %s signs out with its message", async (code, text) => {
    fake.routes.set("GET /me/languages", () => json({ detail: "no", code }, 401));
    signedIn("/");
    render(<App />);
    expect(await screen.findByRole("alert")).toHaveTextContent(text);
    expect(localStorage.getItem("grabadora.session")).toBeNull();
  });

  it("an answer to an earlier session's request does not sign out the current one", async () => {
    let release: (r: Response) => void = () => {};
    fake.routes.set("GET /me/languages", () => new Promise<Response>((resolve) => (release = resolve)));
    fake.routes.set("POST /auth/token", () => json({ access_token: "tok-2", token_type: "bearer", expires_in: 3600 }));
    signedIn("/");
    render(<App />);
    await waitFor(() => expect(fake.calls.some((c) => c.path === "/me/languages")).toBe(true));
    // The user signs out and in again while the first session's request is still out
    fireEvent.click(screen.getByRole("button", { name: "Salir" }));
    fireEvent.change(screen.getByLabelText("Correo electrónico"), { target: { value: "ana@example.com" } });
    fireEvent.change(screen.getByLabelText("Contraseña"), { target: { value: "una clave muy larga" } });
    fake.routes.set("GET /me/languages", () => json({ languages: ["es"] }));
    fireEvent.click(screen.getByRole("button", { name: "Entrar" }));
    expect(await screen.findByRole("heading", { name: "Transcribir un archivo" })).toBeInTheDocument();
    await act(async () => release(json({ detail: "no", code: "session_revoked" }, 401)));
    expect(screen.getByRole("heading", { name: "Transcribir un archivo" })).toBeInTheDocument();
    expect(JSON.parse(localStorage.getItem("grabadora.session") ?? "{}").token).toBe("tok-2");
  });
});

describe("the transcript page", () => {
  const detail = (over: Record<string, unknown>) => ({
    id: "T1",
    status: "completed",
    title: "Entrevista",
    tags: [],
    language: "en",
    language_source: "preferred_fallback",
    language_unsure: true,
    quality_profile: "balanced",
    duration: 6,
    progress: 1,
    error: null,
    created_at: null,
    updated_at: null,
    preview: "",
    edited_at: null,
    options: {},
    attempts: 1,
    usage: null,
    source: "file",
    stop_reason: null,
    audio_url: null,
    text: "Hello",
    segments: [{ id: 0, t0: 0, t1: 1, text: " Hello", words: null, edited: false, speaker: null }],
    exports: [],
    language_probability: 0.02,
    model: "base",
    speakers: [],
    speaker_names: {},
    diarization_error: null,
    warning: "the file seems cut short: its header declares 12.0 s of audio but only 6.0 s could be decoded; the transcript covers that part",
    version: 0,
    ...over,
  });

  it("says when the language is doubtful, transcribes again in the chosen one and follows the new run", async () => {
    fake.routes.set("GET /me/languages", () => json({ languages: ["en", "es"] }));
    fake.routes.set("GET /transcripts/T1", () => json(detail({})));
    fake.routes.set("POST /transcripts/T1/retranscribe", () =>
      json({ job_id: "T2", status: "queued", quality_profile: "balanced", stream_url: "/transcribe/T2?token=x" }, 202),
    );
    fake.routes.set("GET /transcripts/T2", () =>
      json(detail({ id: "T2", status: "processing", progress: 0.4, language: null, language_source: null, language_unsure: false, segments: [], warning: null })),
    );
    signedIn("/biblioteca/T1");
    render(<App />);
    expect(await screen.findByText("Idioma dudoso: la detección no estaba segura y se usó tu idioma preferido, Inglés.")).toBeInTheDocument();
    expect(screen.getByRole("note")).toHaveTextContent("Aviso: el archivo parece cortado");
    expect(screen.getByText(/Inglés \(dudoso\)/)).toBeInTheDocument();
    const select = screen.getByLabelText("Volver a transcribir en…");
    await waitFor(() => expect(select).toHaveValue("es")); // the first of the user's other languages
    fireEvent.click(screen.getByRole("button", { name: "Volver a transcribir" }));

    expect(await screen.findByText(/Transcribiendo de nuevo en Español/)).toBeInTheDocument();
    expect(fake.calls.find((c) => c.path === "/transcripts/T1/retranscribe")?.body).toEqual({ language: "es" });
    await waitFor(() => expect(window.location.pathname).toBe("/biblioteca/T2"));
    expect(await screen.findByRole("progressbar", { name: "Progreso de la transcripción" })).toHaveAttribute("aria-valuenow", "40");
    expect(screen.queryByText(/Idioma dudoso/)).toBeNull();
  });

  it("shows no banner for a sure language", async () => {
    fake.routes.set("GET /me/languages", () => json({ languages: ["es"] }));
    fake.routes.set("GET /transcripts/T1", () => json(detail({ language: "es", language_source: "detected", language_unsure: false, warning: null })));
    signedIn("/biblioteca/T1");
    render(<App />);
    expect(await screen.findByText(/Español \(detectado\)/)).toBeInTheDocument();
    expect(screen.queryByText(/Idioma dudoso/)).toBeNull();
    expect(screen.queryByRole("note")).toBeNull();
  });
});
