// The languages Whisper knows, by name, and the small pure helpers the languages editor, the
// options form and the transcript page share.
import type { TranscriptDetail } from "../api/client";
import { languageName, type Locale } from "../i18n";

/** Whisper's language codes (grabadora.models.WHISPER_LANGUAGES): what the API accepts. */
export const WHISPER_LANGUAGES: readonly string[] = (
  "af am ar as az ba be bg bn bo br bs ca cs cy da de el en es et eu fa fi fo fr gl gu ha haw he hi " +
  "hr ht hu hy id is it ja jw ka kk km kn ko la lb ln lo lt lv mg mi mk ml mn mr ms mt my ne nl nn no " +
  "oc pa pl ps pt ro ru sa sd si sk sl sn so sq sr su sv sw ta te tg th tk tl tr tt uk ur uz vi yi yo " +
  "zh yue"
).split(" ");

/** The most an account keeps (PUT /me/languages takes 1 to 10). */
export const MAX_LANGUAGES = 10;

/** `ANY` in the options form: detection among every language, not only the user's. */
export const ANY_LANGUAGE = "any";

/** Codes sorted by their name in `locale` ("Alemán", "Árabe", …), leaving out `except`. */
export function languagesByName(locale: Locale, except: readonly string[] = []): string[] {
  const skip = new Set(except);
  const collator = new Intl.Collator(locale);
  return WHISPER_LANGUAGES.filter((code) => !skip.has(code)).sort((a, b) =>
    collator.compare(languageName(a, locale), languageName(b, locale)),
  );
}

/** `list` with the item at `from` moved to `to` (a new array; out-of-range moves change nothing). */
export function moveItem<T>(list: readonly T[], from: number, to: number): T[] {
  const next = [...list];
  if (from < 0 || from >= next.length || to < 0 || to >= next.length || from === to) return next;
  const [item] = next.splice(from, 1);
  next.splice(to, 0, item);
  return next;
}

/** Whether two lists hold the same codes in the same order. */
export function sameLanguages(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((code, i) => code === b[i]);
}

/** "Español, Inglés y Catalán" (or "Spanish, English and Catalan"). */
export function languageList(codes: readonly string[], locale: Locale): string {
  const names = codes.map((code) => languageName(code, locale));
  try {
    return new Intl.ListFormat(locale, { style: "long", type: "conjunction" }).format(names);
  } catch {
    return names.join(", ");
  }
}

/** The language of a transcript needs a second look: detection was unsure, or fell back to the
 * user's preferred language. */
export function languageDoubtful(detail: Pick<TranscriptDetail, "language_unsure" | "language_source">): boolean {
  return detail.language_unsure || detail.language_source === "preferred_fallback";
}

/** The language most worth trying again: the first of the user's languages that was not used,
 * else the browser's languages, else the interface's, else the first other language by name. */
export function suggestedLanguage(
  used: string | null | undefined,
  mine: readonly string[],
  locale: Locale,
  browser: readonly string[] = [],
): string {
  const known = new Set(WHISPER_LANGUAGES);
  const candidates = [...mine, ...browser.map((tag) => tag.split("-")[0].toLowerCase()), locale];
  return candidates.find((code) => code !== used && known.has(code)) ?? languagesByName(locale, used ? [used] : [])[0];
}
