import { describe, expect, it } from "vitest";
import { ApiError } from "./api/client";
import { isRunning, searchTerms } from "./api/queries";
import { parseTags } from "./components/TranscriptActions";
import { isTypingTarget } from "./hooks/usePlaybackKeys";
import { errorText, languageName, translate, type MessageKey } from "./i18n";
import { isSilent } from "./screens/Biblioteca";

const es = (key: MessageKey, vars?: Record<string, string | number>) => translate("es", key, vars);

describe("server errors in the user's language", () => {
  it.each([
    ["password_weak", "La contraseña es demasiado fácil de adivinar"],
    ["file_empty", "El archivo está vacío"],
    ["unsupported_type", "no es de audio ni de vídeo"],
    ["file_too_large", "demasiado grande"],
    ["transcript_not_found", "No se encontró esta transcripción"],
    ["integration_not_configured", "no está configurado"],
    ["quota_exceeded", "cuota"],
    ["rate_limited", "Demasiados intentos"],
    ["session_expired", "Tu sesión ha caducado"],
    ["invalid.password.string_too_short", "al menos 8 caracteres"],
  ])("translates %s", (code, text) => {
    expect(errorText(new ApiError(422, "english detail", code), es)).toContain(text);
  });

  it("falls back to the server's detail for a code it does not know, and says when the network is down", () => {
    expect(errorText(new ApiError(400, "something new", "brand_new_code"), es)).toBe("something new");
    expect(errorText(new ApiError(500, "no code"), es)).toBe("no code");
    expect(errorText(new ApiError(0, "Failed to fetch"), es)).toContain("No hay conexión");
    expect(errorText(new ApiError(422, "title: too long", "invalid.title.string_too_long"), es)).toContain("título");
  });
});

describe("library helpers", () => {
  it("searches a #tag as the tag", () => {
    expect(searchTerms("#radio")).toBe("radio");
    expect(searchTerms("  entrevista #radio ")).toBe("entrevista radio");
    expect(searchTerms("C#")).toBe("C#");
  });
  it("parses tags without '#' or repeats", () => {
    expect(parseTags("#radio, entrevista, , radio")).toEqual(["radio", "entrevista"]);
  });
  it("knows running jobs and silent ones", () => {
    expect(["queued", "processing", "live"].every((s) => isRunning(s as never))).toBe(true);
    expect(isRunning("completed")).toBe(false);
    expect(isSilent({ status: "completed", preview: "" })).toBe(true);
    expect(isSilent({ status: "completed", preview: "hola" })).toBe(false);
  });
  it("names languages instead of codes", () => {
    expect(languageName("es", "es")).toBe("Español");
    expect(languageName("en", "en")).toBe("English");
    expect(languageName(null, "es")).toBe("");
  });
});

describe("Space on the transcript page", () => {
  it("leaves fields and buttons alone", () => {
    expect(isTypingTarget(document.createElement("textarea"))).toBe(true);
    expect(isTypingTarget(document.createElement("input"))).toBe(true);
    expect(isTypingTarget(document.createElement("button"))).toBe(true);
    expect(isTypingTarget(document.body)).toBe(false);
    expect(isTypingTarget(document.createElement("span"))).toBe(false);
  });
});
