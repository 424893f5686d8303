import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { App } from "./App";
import { loadSession } from "./auth";
import { groupLines } from "./components/JobView";
import { extensionFor, pickMimeType } from "./hooks/useRecorder";
import { translate } from "./i18n";
import { currentWord } from "./screens/TranscriptDetail";

describe("recorder format", () => {
  it("prefers WebM/Opus and falls back to MP4/AAC (Safari)", () => {
    expect(pickMimeType((t) => t.startsWith("audio/webm"))).toBe("audio/webm;codecs=opus");
    expect(pickMimeType((t) => t.startsWith("audio/mp4"))).toBe("audio/mp4;codecs=mp4a.40.2");
    expect(pickMimeType(() => false)).toBeNull();
    expect(extensionFor("audio/mp4")).toBe("m4a");
    expect(extensionFor("audio/webm")).toBe("webm");
  });
});

describe("session", () => {
  it("keeps a live token and drops an expired one with a notice", () => {
    localStorage.setItem("grabadora.session", JSON.stringify({ token: "t", email: "a@b.c", expiresAt: Date.now() + 60_000 }));
    expect(loadSession().session?.token).toBe("t");
    localStorage.setItem("grabadora.session", JSON.stringify({ token: "t", email: "a@b.c", expiresAt: Date.now() - 1 }));
    expect(loadSession()).toEqual({ session: null, expired: true });
    expect(localStorage.getItem("grabadora.session")).toBeNull();
  });

  it("shows the expiry message on the sign-in screen, in Spanish", () => {
    localStorage.setItem("grabadora.session", JSON.stringify({ token: "t", email: "a@b.c", expiresAt: Date.now() - 1 }));
    render(<App />);
    expect(screen.getByRole("alert")).toHaveTextContent("Tu sesión ha caducado");
    expect(screen.getByLabelText("Correo electrónico")).toBeInTheDocument();
  });
});

describe("transcript helpers", () => {
  const words = [
    { seq: 0, text: " Hola", t0: 0, t1: 0.4 },
    { seq: 1, text: " mundo.", t0: 0.5, t1: 0.9 },
    { seq: 2, text: " Otra", t0: 3, t1: 3.3 },
  ];
  it("groups live words into lines at pauses and sentence ends", () => {
    expect(groupLines(words).map((l) => l.length)).toEqual([2, 1]);
  });
  it("finds the word playing", () => {
    expect(currentWord(words, 0.6)).toBe(1);
    expect(currentWord(words, 2)).toBe(-1);
    expect(currentWord(words, 3.1)).toBe(2);
  });
  it("has every message in both languages", () => {
    expect(translate("en", "nav.library")).toBe("Library");
    expect(translate("es", "job.failed", { detail: "x" })).toBe("La transcripción falló: x");
  });
});
