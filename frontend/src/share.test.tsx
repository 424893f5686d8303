// Share links in the web app: the owner's panel on the transcript page and the public page,
// through the whole app with the API answered by a fake fetch (replaced before any module loads,
// as openapi-fetch takes `fetch` when the client is created).
import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

type Route = (request: Request) => Response | Promise<Response>;
const fake = vi.hoisted(() => {
  const state = { routes: new Map<string, Route>(), calls: [] as Array<{ method: string; path: string; body: unknown; auth: string | null }> };
  globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(String(input), init);
    const url = new URL(request.url);
    const text = request.method === "GET" || request.method === "HEAD" ? "" : await request.clone().text();
    state.calls.push({ method: request.method, path: url.pathname, body: text ? JSON.parse(text) : null, auth: request.headers.get("Authorization") });
    const route = state.routes.get(`${request.method} ${url.pathname}`);
    if (!route) return new Response(JSON.stringify({ detail: "Not Found", code: "not_found" }), { status: 404, headers: { "Content-Type": "application/json" } });
    return route(request);
  }) as typeof fetch;
  return state;
});

import { App } from "./App";
import { EXPIRY_DAYS, shareAddress } from "./components/ShareLinks";
import { translate } from "./i18n";

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
const es = (key: Parameters<typeof translate>[1], vars?: Record<string, string | number>) => translate("es", key, vars);
const TOKEN = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ";

const transcript = {
  id: "T1", status: "completed", title: "Entrevista", tags: [], language: "es", language_source: "forced", language_unsure: false,
  quality_profile: "balanced", duration: 5, progress: 1, error: null, created_at: null, updated_at: null, preview: null, edited_at: null,
  options: {}, attempts: 1, usage: null, source: "file", stop_reason: null, audio_url: "http://s3.local/a", text: "Hola.",
  segments: [{ id: 0, t0: 0, t1: 1, text: " Hola.", words: [{ text: " Hola.", t0: 0, t1: 1 }], edited: false, speaker: null }],
  exports: [], language_probability: null, model: null, speakers: [], speaker_names: {}, diarization_error: null, warning: null, version: 0,
};

const shared = {
  title: "Entrevista", duration: 5, language: "es", text: "Hola, soy yo.", audio_url: "http://s3.local/shared/x/audio",
  expires_at: "2030-01-08T10:00:00Z",
  segments: [
    { id: 0, t0: 0, t1: 2, text: " Hola, soy yo.", speaker: "Ana", words: [{ text: " Hola,", t0: 0, t1: 0.8, speaker: "Ana" }, { text: " soy yo.", t0: 0.9, t1: 2, speaker: "Ana" }] },
  ],
};

beforeEach(() => {
  fake.routes.clear();
  fake.calls.length = 0;
  localStorage.clear();
});
afterEach(() => window.history.pushState(null, "", "/"));

describe("share helpers", () => {
  it("builds the address on this origin unless the API names a host", () => {
    expect(shareAddress({ path: `/compartido/${TOKEN}`, url: `/compartido/${TOKEN}` }, "http://127.0.0.1:8000/")).toBe(`http://127.0.0.1:8000/compartido/${TOKEN}`);
    expect(shareAddress({ path: "/compartido/x", url: "https://grabadora.example/compartido/x" }, "http://localhost")).toBe("https://grabadora.example/compartido/x");
    expect(EXPIRY_DAYS).toContain(7);
    expect(Math.max(...EXPIRY_DAYS)).toBeLessThanOrEqual(90);
    expect(translate("en", "share.unavailableTitle")).toBe("Link not available");
  });
});

describe("the owner's share links", () => {
  it("creates a link with the chosen expiry, shows it once, lists and revokes", async () => {
    localStorage.setItem("grabadora.session", JSON.stringify({ token: "tok-1", email: "ana@example.com", expiresAt: Date.now() + 3600_000 }));
    window.history.pushState(null, "", "/biblioteca/T1");
    let links: Array<{ id: string; created_at: string; expires_at: string }> = [];
    fake.routes.set("GET /transcripts/T1", () => json(transcript));
    fake.routes.set("GET /me/languages", () => json({ languages: ["es"] }));
    fake.routes.set("GET /transcripts/T1/shares", () => json(links));
    fake.routes.set("POST /transcripts/T1/shares", () => {
      links = [{ id: "S1", created_at: "2030-01-01T10:00:00Z", expires_at: "2030-01-31T10:00:00Z" }];
      return json({ ...links[0], token: TOKEN, path: `/compartido/${TOKEN}`, url: `/compartido/${TOKEN}` }, 201);
    });
    fake.routes.set("DELETE /transcripts/T1/shares/S1", () => {
      links = [];
      return new Response(null, { status: 204 });
    });
    render(<App />);
    fireEvent.click(await screen.findByRole("button", { name: es("share.open") }));
    expect(await screen.findByText(es("share.none"))).toBeInTheDocument();
    fireEvent.change(screen.getByLabelText(es("share.expiresIn")), { target: { value: "30" } });
    fireEvent.click(screen.getByRole("button", { name: es("share.create") }));
    const field = (await screen.findByLabelText(es("share.link"))) as HTMLInputElement;
    expect(field.value).toBe(`${window.location.origin}/compartido/${TOKEN}`);
    expect(fake.calls.find((c) => c.method === "POST")?.body).toEqual({ expires_in_days: 30 });
    const list = await screen.findByRole("list");
    await waitFor(() => expect(within(list).getAllByRole("listitem")).toHaveLength(1));
    fireEvent.click(within(list).getByRole("button", { name: /Revocar/ }));
    expect(await screen.findByText(es("share.none"))).toBeInTheDocument();
    expect(screen.queryByLabelText(es("share.link"))).toBeNull(); // the revoked link's address is gone too
  });
});

describe("the public page", () => {
  it("shows the player and the text, signed out, with no way into an account", async () => {
    window.history.pushState(null, "", `/compartido/${TOKEN}`);
    fake.routes.set(`GET /shared/${TOKEN}`, () => json(shared));
    render(<App />);
    expect(await screen.findByRole("heading", { name: "Entrevista" })).toBeInTheDocument();
    expect(screen.getByText("Hola,")).toBeInTheDocument();
    expect(screen.getByText("Ana")).toBeInTheDocument();
    expect(document.querySelector("audio")?.getAttribute("src")).toBe(shared.audio_url);
    expect(screen.queryByRole("navigation")).toBeNull();
    expect(screen.queryByLabelText(es("auth.email"))).toBeNull(); // not the sign-in screen
    expect(screen.queryByRole("button", { name: es("detail.edit") })).toBeNull();
    expect(fake.calls.every((c) => c.auth === null)).toBe(true);
  });

  it("sends no token even when the owner is signed in on this browser, and shows no account", async () => {
    localStorage.setItem("grabadora.session", JSON.stringify({ token: "tok-1", email: "ana@example.com", expiresAt: Date.now() + 3600_000 }));
    window.history.pushState(null, "", `/compartido/${TOKEN}`);
    fake.routes.set(`GET /shared/${TOKEN}`, () => json(shared));
    render(<App />);
    expect(await screen.findByRole("heading", { name: "Entrevista" })).toBeInTheDocument();
    expect(screen.queryByRole("navigation")).toBeNull();
    expect(screen.queryByRole("button", { name: es("auth.signOut") })).toBeNull();
    expect(fake.calls.filter((c) => c.path.startsWith("/shared/")).every((c) => c.auth === null)).toBe(true);
  });

  it("says the link is not available when it does not open", async () => {
    window.history.pushState(null, "", `/compartido/${TOKEN}`);
    fake.routes.set(`GET /shared/${TOKEN}`, () => json({ detail: "gone", code: "share_unavailable" }, 404));
    render(<App />);
    expect(await screen.findByRole("heading", { name: es("share.unavailableTitle") })).toBeInTheDocument();
    expect(screen.getByRole("alert")).toHaveTextContent("no está disponible");
  });
});
