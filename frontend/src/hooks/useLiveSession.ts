// A live session from the page's side: frames in (from useLiveRecorder), words out (the job's
// event stream: confirmed `delta` words and the tentative `partial` tail), then after Stop the
// final text. The frames are kept in IndexedDB until the transcript is completed.
import { useCallback, useEffect, useRef, useState } from "react";
import { api, unwrap, type TranscriptDetail } from "../api/client";
import type { LiveOptions } from "../api/live";
import { discardRecording, LiveSender, type DiscardResult, type FinishResult, type SenderStatus } from "../lib/liveSession";
import { idbLiveStore, memoryLiveStore, type LiveRecord, type LiveStore } from "../lib/liveStore";
import { useEventStream } from "./useEventStream";

export type LivePhase =
  | "idle"
  | "recording" // frames go out while the user speaks
  | "sending" // stopped; the frames not yet sent go out (waits while offline)
  | "finishing" // the server has everything: the tail, the final pass, the transcript
  | "done"
  | "upload" // the session ended without every frame: the caller uploads the recording instead
  | "failed";

let fallbackStore: LiveStore | null = null;

/** The Web Lock a tab holds while a recording is its own, so other tabs do not offer to finish it. */
export const lockName = (key: string) => `grabadora-live-${key}`;

function holdLock(key: string): () => void {
  if (typeof navigator === "undefined" || !navigator.locks) return () => undefined;
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  navigator.locks.request(lockName(key), () => held).catch(() => undefined);
  return release;
}

/** Keys of recordings another tab (or this one) is working on now. */
export async function recordingsInUse(): Promise<Set<string>> {
  if (typeof navigator === "undefined" || !navigator.locks) return new Set();
  const state = await navigator.locks.query().catch(() => ({ held: [] as LockInfo[] }));
  const prefix = lockName("");
  return new Set((state.held ?? []).map((l) => l.name ?? "").filter((n) => n.startsWith(prefix)).map((n) => n.slice(prefix.length)));
}

/** IndexedDB where the browser has it, else memory (frames then last as long as the tab). */
export function liveStore(): LiveStore {
  if (typeof indexedDB !== "undefined") return idbLiveStore;
  fallbackStore ??= memoryLiveStore();
  return fallbackStore;
}

export function useLiveSession(store: LiveStore = liveStore()) {
  const [phase, setPhase] = useState<LivePhase>("idle");
  const [status, setStatus] = useState<SenderStatus | null>(null);
  const [final, setFinal] = useState<TranscriptDetail | null>(null);
  const [key, setKey] = useState<string | null>(null);
  const sender = useRef<LiveSender | null>(null);
  const unlock = useRef<() => void>(() => undefined);
  const early = useRef<ArrayBuffer[]>([]);
  const stream = useEventStream(status?.streamUrl ?? null);
  const liveId = status?.liveId ?? null;

  const attach = useCallback((next: LiveSender) => {
    sender.current?.dispose();
    unlock.current();
    unlock.current = holdLock(next.key);
    sender.current = next;
    setKey(next.key);
    setStatus(next.status);
    setFinal(null);
  }, []);

  const options = useCallback(
    () => ({
      store,
      events: typeof window === "undefined" ? undefined : window,
      onChange: (s: SenderStatus) => setStatus(s),
    }),
    [store],
  );

  /** A new recording: its frames are numbered and stored from the first one. */
  const begin = useCallback(
    (liveOptions: LiveOptions): string => {
      const next = LiveSender.start(crypto.randomUUID(), liveOptions, options());
      attach(next);
      for (const pcm of early.current.splice(0)) next.push(pcm);
      setPhase("recording");
      return next.key;
    },
    [attach, options],
  );

  const push = useCallback((pcm: ArrayBuffer) => {
    if (sender.current) sender.current.push(pcm);
    else early.current.push(pcm); // a frame before begin(): kept for it
  }, []);

  const settle = useCallback(async (s: LiveSender): Promise<FinishResult> => {
    setPhase("sending");
    const result = await s.finish();
    await s.flushed();
    setPhase(result === "stopped" ? "finishing" : "upload");
    return result;
  }, []);

  /** After the recorder's last frame: send the rest, then stop the session. */
  const finish = useCallback(async (): Promise<FinishResult> => {
    const s = sender.current;
    if (!s) return "upload";
    return settle(s);
  }, [settle]);

  /** Finish a recording a reload or a closed tab left behind. */
  const recover = useCallback(
    async (record: LiveRecord): Promise<FinishResult> => {
      const s = await LiveSender.resume(record, options());
      attach(s);
      return settle(s);
    },
    [attach, options, settle],
  );

  /** Try now rather than after the back-off. */
  const retry = useCallback(() => sender.current?.kick(), []);

  /** Keep a paused session open: the server ends one that gets no frame for its idle timeout. */
  const keepAlive = useCallback(() => {
    sender.current?.push(new ArrayBuffer(3_200)); // 0.1 s of silence
  }, []);

  const forget = useCallback((which: string) => store.forget(which).catch(() => undefined), [store]);

  /**
   * "Descartar": the current recording (no argument) or one left unfinished. Its session is
   * cancelled on the server, so no transcript is kept there either; "pending" while offline.
   */
  const discard = useCallback(
    async (record?: LiveRecord): Promise<DiscardResult> => {
      if (record) return discardRecording(record, store);
      const s = sender.current;
      if (!s) return "discarded";
      sender.current = null;
      const result = await s.discard();
      unlock.current();
      early.current = [];
      setKey(null);
      setStatus(null);
      setFinal(null);
      setPhase("idle");
      return result;
    },
    [store],
  );

  const reset = useCallback(() => {
    sender.current?.dispose();
    unlock.current();
    sender.current = null;
    early.current = [];
    setKey(null);
    setStatus(null);
    setFinal(null);
    setPhase("idle");
  }, []);

  useEffect(
    () => () => {
      sender.current?.dispose();
      unlock.current();
    },
    [],
  );

  // The end: fetch the transcript the library keeps (after the final pass), forget the frames.
  useEffect(() => {
    if (stream.status === "failed" && (phase === "finishing" || phase === "recording" || phase === "sending")) {
      if (phase === "finishing") setPhase("failed");
      return;
    }
    if (stream.status !== "completed" || !liveId || !key || phase !== "finishing") return;
    let cancelled = false;
    void (async () => {
      try {
        const detail = await unwrap<TranscriptDetail>(
          api.GET("/transcripts/{transcript_id}", { params: { path: { transcript_id: liveId } } }),
        );
        if (!cancelled) setFinal(detail);
      } catch {
        /* the live words stay on screen; the library has the text */
      }
      await store.forget(key).catch(() => undefined);
      if (!cancelled) setPhase("done");
    })();
    return () => {
      cancelled = true;
    };
  }, [stream.status, liveId, key, phase, store]);

  return {
    phase,
    status,
    stream,
    final,
    key,
    liveId,
    seconds: () => sender.current?.seconds ?? 0,
    begin,
    push,
    finish,
    recover,
    retry,
    keepAlive,
    forget,
    discard,
    reset,
    setPhase,
  };
}
