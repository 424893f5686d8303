/** 75.3 → "1:15"; 3725 → "1:02:05". */
export function clock(seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds)) return "–";
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

const MEDIA_EXT = /\.(mp3|wav|flac|ogg|oga|opus|m4a|aac|wma|webm|mp4|m4v|mov|mkv|avi|3gp|amr|aiff?|caf)$/i;

export function isMedia(file: { name: string; type: string }): boolean {
  return /^(audio|video)\//.test(file.type) || file.type === "application/ogg" || MEDIA_EXT.test(file.name);
}

export function dateTime(iso: string | null | undefined, locale: string): string {
  if (!iso) return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(locale === "es" ? "es-ES" : "en-GB", { dateStyle: "medium", timeStyle: "short" });
}
