// Follow a job's live events (GET /transcribe/{job_id}, server-sent events).
//
// Every event carries `id: <seq>` (gap-free, from 0). The hook remembers the last seq it
// applied; when the connection drops before `completed`/`error`, it reconnects with
// `Last-Event-ID: <seq>` and the relay replays from there, so no word is lost or doubled
// (a replayed seq at or below the last one applied is ignored).
import { fetchEventSource, type EventSourceMessage } from "@microsoft/fetch-event-source";
import { useEffect, useReducer, useRef } from "react";
import { detailOf } from "../api/client";

export interface LiveWord {
  seq: number;
  text: string;
  t0: number;
  t1: number;
  speaker?: string | null;
}

export interface CompletedInfo {
  job_id: string;
  transcript_key?: string;
  language?: string | null;
  duration?: number | null;
  quality_profile?: string | null;
}

/** A live session's tentative tail: replaced by each `partial`, confirmed word by word by `delta`. */
export interface PartialText {
  text: string;
  t0: number;
  t1: number;
}

export type StreamStatus = "idle" | "connecting" | "open" | "reconnecting" | "completed" | "failed";

export interface StreamState {
  status: StreamStatus;
  /** The words so far, append-only and shared by every state of one stream (copying thousands
   * of words per animation frame made an hour's stream slower as it grew): this state's words
   * are the first `wordCount`; a later state may already have appended more. */
  words: readonly LiveWord[];
  /** How many of `words` this state holds; it changes whenever a word arrives. */
  wordCount: number;
  /** Whether any word came with a speaker label. */
  hasSpeakers: boolean;
  progress: number;
  processedS: number;
  durationS: number | null;
  lastSeq: number;
  reconnects: number;
  error: string | null;
  completed: CompletedInfo | null;
  partial: PartialText | null;
  /** The `stage` of the last progress event (a live session's "final" pass), if any. */
  stage: string | null;
}

export const initialStreamState: StreamState = {
  status: "idle",
  words: Object.freeze([]) as readonly LiveWord[],
  wordCount: 0,
  hasSpeakers: false,
  progress: 0,
  processedS: 0,
  durationS: null,
  lastSeq: -1,
  reconnects: 0,
  error: null,
  completed: null,
  partial: null,
  stage: null,
};

const bare = (word: string) => word.toLowerCase().replace(/[^\p{L}\p{N}']+/gu, "");

/** The tail left once `word` is confirmed: a delta usually confirms the tail's first word. */
export function afterConfirmed(partial: PartialText | null, word: LiveWord): PartialText | null {
  if (!partial) return null;
  const text = partial.text.trimStart();
  const first = text.split(/\s+/, 1)[0] ?? "";
  if (!first || bare(first) !== bare(word.text)) return partial;
  const rest = text.slice(first.length);
  return rest.trim() ? { text: rest, t0: Math.max(partial.t0, word.t1), t1: partial.t1 } : null;
}

function partialOf(d: Record<string, unknown>): PartialText | null {
  const text = String(d.text ?? "");
  return text.trim() ? { text, t0: Number(d.t0 ?? 0), t1: Number(d.t1 ?? 0) } : null;
}

type EventAction = { type: "event"; seq: number; event: string; data: Record<string, unknown> };
type PartialAction = { type: "partial"; data: Record<string, unknown> };

type Action =
  | { type: "reset"; connecting: boolean }
  | { type: "open" }
  | { type: "reconnecting" }
  | EventAction
  | PartialAction
  | { type: "batch"; actions: Array<EventAction | PartialAction> }
  | { type: "fatal"; detail: string };

/** Append `word` as the `next.wordCount`-th word of the stream's shared list. The same seq at
 * that place means the same event applied again (React runs a reducer twice in StrictMode, and
 * again after a discarded render): kept, not doubled; anything else there came from a state
 * that was never committed and is dropped. */
function append(next: StreamState, word: LiveWord): void {
  // Every stream starts from the frozen empty list: its first word gets a list of its own.
  const words = (Object.isFrozen(next.words) ? [] : next.words) as LiveWord[];
  const at = next.wordCount;
  if (words[at]?.seq !== word.seq) {
    words.length = at;
    words.push(word);
  }
  next.words = words;
  next.wordCount = at + 1;
  if (word.speaker) next.hasSpeakers = true;
}

/** Apply one event to `next`, a copy of the state that the caller owns. */
function apply(next: StreamState, action: EventAction | PartialAction): void {
  if (action.type === "partial") {
    // a tail sent without an id: not part of the replayable sequence
    if (next.status !== "completed") next.partial = partialOf(action.data);
    return;
  }
  if (action.seq <= next.lastSeq) return; // a replay of something already applied
  next.lastSeq = action.seq;
  const d = action.data;
  switch (action.event) {
    case "delta": {
      const word = { seq: action.seq, text: String(d.text ?? ""), t0: Number(d.t0), t1: Number(d.t1), speaker: (d.speaker as string) ?? null };
      append(next, word);
      next.partial = afterConfirmed(next.partial, word);
      break;
    }
    case "partial":
      next.partial = partialOf(d);
      break;
    case "progress":
      next.stage = d.stage == null ? null : String(d.stage);
      if (next.stage === "final") next.partial = null;
      next.progress = Number(d.progress ?? 0);
      next.processedS = Number(d.processed_s ?? 0);
      next.durationS = d.duration_s == null ? null : Number(d.duration_s);
      break;
    case "completed":
      next.status = "completed";
      next.progress = 1;
      next.completed = d as unknown as CompletedInfo;
      next.partial = null;
      break;
    case "error":
      next.status = "failed";
      next.error = String(d.detail ?? "unknown error");
      break;
  }
}

/** The state after `actions`, made in one step (one render per batch, not per word). */
function applyAll(state: StreamState, actions: Array<EventAction | PartialAction>): StreamState {
  const fresh = actions.filter((a) => a.type === "partial" || a.seq > state.lastSeq);
  if (!fresh.length) return state;
  const next = { ...state };
  for (const action of fresh) apply(next, action);
  return next;
}

export function streamReducer(state: StreamState, action: Action): StreamState {
  switch (action.type) {
    case "reset":
      return { ...initialStreamState, status: action.connecting ? "connecting" : "idle" };
    case "open":
      return state.status === "completed" || state.status === "failed" ? state : { ...state, status: "open" };
    case "reconnecting":
      return state.status === "completed" || state.status === "failed"
        ? state
        : { ...state, status: "reconnecting", reconnects: state.reconnects + 1 };
    case "fatal":
      return { ...state, status: "failed", error: action.detail };
    case "partial":
    case "event":
      return applyAll(state, [action]);
    case "batch":
      return applyAll(state, action.actions);
  }
}

function parse(data: string): Record<string, unknown> {
  try {
    return data ? JSON.parse(data) : {};
  } catch {
    return { text: data };
  }
}

class FatalStreamError extends Error {}
class StreamClosed extends Error {}

export interface StreamOptions {
  /** First retry delay in ms; doubles up to maxRetryMs. */
  retryMs?: number;
  maxRetryMs?: number;
  /** Give up after this many reconnects in a row without a new event. */
  maxAttempts?: number;
  fetch?: typeof fetch;
}

export function useEventStream(url: string | null, options: StreamOptions = {}): StreamState {
  const [state, dispatch] = useReducer(streamReducer, initialStreamState);
  const lastSeq = useRef(-1);
  const opts = useRef(options);
  opts.current = options;

  useEffect(() => {
    dispatch({ type: "reset", connecting: url !== null });
    lastSeq.current = -1;
    if (!url) return;
    const controller = new AbortController();
    const { retryMs = 1000, maxRetryMs = 10_000, maxAttempts = 30 } = opts.current;
    let failures = 0;
    let finished = false;
    // The relay ends a stream itself before Lambda's time limit, with a `retry:` hint: that
    // planned end is resumed at once, without counting a failure or showing "reconnecting".
    let plannedRetryMs: number | null = null;
    const target = new URL(url, window.location.origin).toString();

    // Events are applied together once per animation frame: a relay poll can bring hundreds
    // of words at once, and a render per word made an hour's transcript stutter. A timer backs
    // the frame up, since a hidden tab gets no animation frames.
    const pending: Array<EventAction | PartialAction> = [];
    let frame = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const flush = () => {
      if (frame) cancelAnimationFrame(frame);
      clearTimeout(timer);
      frame = 0;
      timer = undefined;
      if (pending.length) dispatch({ type: "batch", actions: pending.splice(0) });
    };
    const queue = (action: EventAction | PartialAction) => {
      pending.push(action);
      if (timer !== undefined) return;
      if (typeof requestAnimationFrame === "function") frame = requestAnimationFrame(flush);
      timer = setTimeout(flush, 100);
    };
    const cancelQueued = () => {
      if (frame) cancelAnimationFrame(frame);
      clearTimeout(timer);
      pending.length = 0;
    };

    const finish = () => {
      finished = true;
      controller.abort();
    };

    const sleep = (ms: number) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        controller.signal.addEventListener("abort", () => {
          clearTimeout(timer);
          resolve();
        });
      });

    // One connection; resolves when the job ended, rejects when the connection did.
    const connect = () =>
      fetchEventSource(target, {
        signal: controller.signal,
        // Resume after the last event applied (the relay replays everything after it).
        headers: lastSeq.current >= 0 ? { "last-event-id": String(lastSeq.current) } : {},
        openWhenHidden: true,
        fetch: opts.current.fetch,
        async onopen(response) {
          const type = response.headers.get("content-type") ?? "";
          if (response.ok && type.startsWith("text/event-stream")) {
            flush();
            dispatch({ type: "open" });
            return;
          }
          let body: unknown = null;
          try {
            body = await response.json();
          } catch {
            /* not JSON */
          }
          const detail = detailOf(body, response.status);
          if (response.status >= 400 && response.status < 500 && response.status !== 429)
            throw new FatalStreamError(detail);
          throw new Error(detail); // 5xx, 429: worth another try
        },
        onmessage(message: EventSourceMessage) {
          if (message.retry !== undefined) plannedRetryMs = message.retry;
          if (!message.event) return; // heartbeats and comments
          if (!message.id) {
            if (message.event === "partial") queue({ type: "partial", data: parse(message.data) });
            return;
          }
          const seq = Number(message.id);
          if (!Number.isFinite(seq)) return;
          failures = 0;
          if (seq <= lastSeq.current) return;
          lastSeq.current = seq;
          queue({ type: "event", seq, event: message.event, data: parse(message.data) });
          if (message.event === "completed" || message.event === "error") {
            flush();
            finish();
          }
        },
        onclose() {
          if (!finished) throw new StreamClosed("the stream closed before the job ended");
        },
        onerror(err) {
          throw err; // the loop below decides whether and when to reconnect
        },
      });

    (async () => {
      while (!finished) {
        try {
          await connect();
          if (finished) return;
        } catch (err) {
          if (finished) return;
          flush();
          if (err instanceof FatalStreamError) {
            dispatch({ type: "fatal", detail: err.message });
            return;
          }
          if (err instanceof StreamClosed && plannedRetryMs !== null) {
            const wait = plannedRetryMs;
            plannedRetryMs = null;
            await sleep(wait);
            continue;
          }
          failures += 1;
          if (failures > maxAttempts) {
            dispatch({ type: "fatal", detail: "lost the connection to the server" });
            return;
          }
          dispatch({ type: "reconnecting" });
          await sleep(Math.min(retryMs * 2 ** (failures - 1), maxRetryMs));
        }
      }
    })();
    return () => {
      finished = true;
      cancelQueued();
      controller.abort();
    };
  }, [url]);

  return state;
}
