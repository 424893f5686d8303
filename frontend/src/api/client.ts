// The typed API client. Paths and bodies come from src/api/schema.d.ts, generated from the
// API's OpenAPI schema by `npm run gen:api`; never edit that file by hand.
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";

export type Schemas = components["schemas"];
export type QualityProfile = Schemas["QualityProfile"];
export type JobStatus = Schemas["JobStatus"];
export type ExportDestination = Schemas["ExportDestination"];
export type JobOut = Schemas["JobOut"];
export type UploadOut = Schemas["UploadOut"];

// Responses the API declares as plain objects (no response_model) are typed here.
// Response shapes, generated from the API's OpenAPI schema (npm run gen:api).
export type TranscriptSummary = Schemas["TranscriptSummary"];
export type Word = Schemas["Word"];
export type Segment = Schemas["TranscriptSegment"];
export type ExportDelivery = Schemas["ExportRecord"];
export type TranscriptDetail = Schemas["TranscriptDetail"];
export type TranscriptPage = Schemas["TranscriptPage"];
export type Integrations = Schemas["IntegrationsOut"];

export type UsageOut = Schemas["UsageOut"];
export type TranscriptPatch = Schemas["TranscriptPatch"];
export type ShareLink = Schemas["ShareOut"];
export type NewShareLink = Schemas["NewShareOut"];
export type SharedTranscript = Schemas["SharedTranscript"];

/** An API error with the server's `detail` (English, for integrators) and its stable `code`. */
export class ApiError extends Error {
  constructor(
    public status: number,
    message: string,
    /** The server's stable error code (e.g. "file_empty"), which the web app translates. */
    public code: string | null = null,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** The `code` of an error answer (`{"detail": ..., "code": ...}`), if it has one. */
export function codeOf(body: unknown): string | null {
  const code = (body as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : null;
}

export function detailOf(body: unknown, status: number): string {
  const detail = (body as { detail?: unknown } | null)?.detail;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail))
    return detail
      .map((d: { loc?: unknown[]; msg?: string }) => {
        const where = (d.loc ?? []).filter((p) => p !== "body").join(".");
        return where ? `${where}: ${d.msg}` : String(d.msg);
      })
      .join("; ");
  return `HTTP ${status}`;
}

interface AuthHooks {
  token: () => string | null;
  /**
   * A 401 from the API: `code` is the server's reason ("session_expired", "session_revoked",
   * "account_gone", …) and `token` the one the refused request carried, so an answer to an
   * older session's request does not sign out a newer one.
   */
  onUnauthorized: (code: string | null, token: string | null) => void;
}

let hooks: AuthHooks = { token: () => null, onUnauthorized: () => {} };

/** Wire the client to the session: where the token comes from, what a 401 does. */
export function configureAuth(next: AuthHooks): void {
  hooks = next;
}

export function authHeader(): Record<string, string> {
  const token = hooks.token();
  return token ? { Authorization: `Bearer ${token}` } : {};
}

const authMiddleware: Middleware = {
  onRequest({ request }) {
    const token = hooks.token();
    if (token && !request.headers.has("Authorization")) request.headers.set("Authorization", `Bearer ${token}`);
    return request;
  },
  async onResponse({ request, response }) {
    if (response.status === 401 && !new URL(request.url).pathname.startsWith("/auth/"))
      hooks.onUnauthorized(await unauthorizedCode(response), bearerOf(request.headers));
    return response;
  },
};

function bearerOf(headers: Headers): string | null {
  const value = headers.get("Authorization") ?? "";
  return value.startsWith("Bearer ") ? value.slice(7) : null;
}

/** The `code` of a 401 answer, read from a copy so the caller can still read the body. */
export async function unauthorizedCode(response: Response): Promise<string | null> {
  try {
    return codeOf(await response.clone().json());
  } catch {
    return null;
  }
}

export const api = createClient<paths>({ baseUrl: typeof window === "undefined" ? "" : window.location.origin });
api.use(authMiddleware);

/** The client of the public routes (a share link's page): it never sends the session's token. */
export const publicApi = createClient<paths>({ baseUrl: typeof window === "undefined" ? "" : window.location.origin });

/** Unwrap an openapi-fetch result: the data, or an ApiError with the server's reason. */
export async function unwrap<T>(
  call: Promise<{ data?: unknown; error?: unknown; response: Response }>,
): Promise<T> {
  let result;
  try {
    result = await call;
  } catch (e) {
    throw new ApiError(0, e instanceof Error ? e.message : String(e));
  }
  if (!result.response.ok) throw new ApiError(result.response.status, detailOf(result.error, result.response.status), codeOf(result.error));
  return result.data as T;
}

/** Like `unwrap`, with the response type inferred from the generated schema. */
export async function request<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let result;
  try {
    result = await call;
  } catch (e) {
    throw new ApiError(0, e instanceof Error ? e.message : String(e));
  }
  if (!result.response.ok || result.data === undefined)
    throw new ApiError(result.response.status, detailOf(result.error, result.response.status), codeOf(result.error));
  return result.data;
}

/** Fetch an authenticated file and hand it to the browser as a download. */
export async function downloadFile(path: string, fallbackName: string): Promise<void> {
  const headers = authHeader();
  const response = await fetch(path, { headers });
  if (response.status === 401) hooks.onUnauthorized(await unauthorizedCode(response), headers.Authorization?.slice(7) ?? null);
  if (!response.ok) {
    let body: unknown = null;
    try {
      body = await response.json();
    } catch {
      /* not JSON */
    }
    throw new ApiError(response.status, detailOf(body, response.status), codeOf(body));
  }
  const disposition = response.headers.get("Content-Disposition") ?? "";
  const star = /filename\*=UTF-8''([^;]+)/i.exec(disposition);
  const plain = /filename="([^"]+)"/i.exec(disposition);
  const name = star ? decodeURIComponent(star[1]) : plain ? plain[1] : fallbackName;
  saveBlob(await response.blob(), name);
}

export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
