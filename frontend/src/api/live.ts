// Live sessions (transcription while recording): POST /live, /live/{id}/audio, /live/{id}/stop,
// /live/{id}/cancel.
// Hand-written with plain fetch because the routes are not in the OpenAPI schema yet; once
// `npm run gen:api` has them in schema.d.ts, these calls move to the generated client (`api`).
import { authHeader, detailOf } from "./client";
import type { QualityProfile } from "./client";

export interface LiveOptions {
  language?: string | null;
  profile?: QualityProfile;
  title?: string | null;
  tags?: string[];
  diarization?: boolean;
  hotwords?: string;
  initial_prompt?: string;
  task?: "transcribe" | "translate";
  /** Re-transcribe the whole recording after Stop (default on for "precise" or diarization). */
  final_pass?: boolean;
}

export interface LiveCreated {
  live_id: string;
  stream_url: string;
  max_seconds: number;
  frame_max_bytes: number;
  idle_timeout_seconds: number;
}

/** What the server answered, reduced to what the sender acts on. */
export type LiveOutcome =
  | { kind: "ok" }
  | { kind: "retry"; detail: string; status?: number } // network down, 5xx, 429, 401: keep the data, try again later
  | { kind: "gone"; status: 404 | 409; detail: string } // the session is unknown or already stopped
  | { kind: "rejected"; status: number; detail: string }; // anything else: sending it again will not help

export const PCM_CONTENT_TYPE = "audio/pcm;rate=16000";

async function reason(response: Response): Promise<{ detail: string; code: string | null }> {
  try {
    const body: unknown = await response.json();
    const code = (body as { code?: unknown } | null)?.code;
    return { detail: detailOf(body, response.status), code: typeof code === "string" ? code : null };
  } catch {
    return { detail: `HTTP ${response.status}`, code: null };
  }
}

async function outcome(response: Response): Promise<LiveOutcome> {
  if (response.ok) return { kind: "ok" };
  const { detail: why, code } = await reason(response);
  const status = response.status;
  // POST /live: the first try with this Idempotency-Key is still starting the session.
  if (code === "idempotency_key_in_use") return { kind: "retry", detail: why, status };
  if (status === 404 || status === 409) return { kind: "gone", status, detail: why };
  // 401: the sign-in lapsed; the frames wait (in IndexedDB too) until it is renewed.
  if (status >= 500 || status === 429 || status === 408 || status === 401) return { kind: "retry", detail: why, status };
  return { kind: "rejected", status, detail: why };
}

function base(): string {
  return typeof window === "undefined" ? "" : window.location.origin;
}

async function call(fetchImpl: typeof fetch, path: string, init: RequestInit): Promise<Response | LiveOutcome> {
  try {
    return await fetchImpl(`${base()}${path}`, { ...init, headers: { ...authHeader(), ...(init.headers ?? {}) } });
  } catch (e) {
    return { kind: "retry", detail: e instanceof Error ? e.message : String(e) };
  }
}

/**
 * POST /live: open a session. `idempotencyKey` (the recording's own key) makes a retry after a
 * lost answer get the session the first try started, rather than a second one.
 */
export async function createLive(
  options: LiveOptions,
  fetchImpl: typeof fetch = fetch,
  idempotencyKey?: string,
): Promise<{ kind: "ok"; session: LiveCreated } | Exclude<LiveOutcome, { kind: "ok" }>> {
  const response = await call(fetchImpl, "/live", {
    method: "POST",
    headers: { "content-type": "application/json", ...(idempotencyKey ? { "idempotency-key": idempotencyKey } : {}) },
    body: JSON.stringify(options),
  });
  if (!(response instanceof Response)) return response as Exclude<LiveOutcome, { kind: "ok" }>;
  const result = await outcome(response);
  if (result.kind !== "ok") return result;
  return { kind: "ok", session: (await response.json()) as LiveCreated };
}

/** POST /live/{id}/audio?seq=N: one frame of PCM16 LE mono 16 kHz; a repeated seq is a no-op. */
export async function sendLiveFrame(liveId: string, seq: number, pcm: ArrayBuffer, fetchImpl: typeof fetch = fetch): Promise<LiveOutcome> {
  const response = await call(fetchImpl, `/live/${encodeURIComponent(liveId)}/audio?seq=${seq}`, {
    method: "POST",
    headers: { "content-type": PCM_CONTENT_TYPE },
    body: pcm,
  });
  return response instanceof Response ? outcome(response) : response;
}

/** POST /live/{id}/stop {frames}: the worker waits for every frame below `frames`. */
export async function stopLive(liveId: string, frames: number, fetchImpl: typeof fetch = fetch): Promise<LiveOutcome> {
  const response = await call(fetchImpl, `/live/${encodeURIComponent(liveId)}/stop`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ frames }),
  });
  return response instanceof Response ? outcome(response) : response;
}

/** POST /live/{id}/cancel: discard the session on the server (nothing is kept); safe to repeat. */
export async function cancelLive(liveId: string, fetchImpl: typeof fetch = fetch): Promise<LiveOutcome> {
  const response = await call(fetchImpl, `/live/${encodeURIComponent(liveId)}/cancel`, { method: "POST" });
  return response instanceof Response ? outcome(response) : response;
}
