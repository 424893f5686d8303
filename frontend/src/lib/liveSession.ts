// Sends a live recording's frames to its session: numbered from 0, stored before they are sent,
// sent one at a time in seq order, and retried with back-off while the network is down (the
// server drops a repeated seq, so a retry never doubles audio), so the transcript has no hole.
// A 404/409 (the session ended, e.g. after its idle timeout) stops the sending; the frames stay
// stored, and the caller uploads the whole recording instead when some never arrived.
import { cancelLive, createLive, sendLiveFrame, stopLive, type LiveCreated, type LiveOptions, type LiveOutcome } from "../api/live";
import type { LiveRecord, LiveStore } from "./liveStore";

export type SenderState =
  | "opening" // POST /live not answered yet
  | "sending" // frames go out as they come
  | "waiting" // the last try failed (network, 5xx); trying again after a pause
  | "stopped" // POST /stop accepted: the server has every frame
  | "ended" // the session is gone (404/409) or refused the audio; what it lacks must be uploaded
  | "disposed";

export interface SenderStatus {
  state: SenderState;
  liveId: string | null;
  streamUrl: string | null;
  frames: number;
  acked: number;
  /** Why the last try failed, or why the session ended. */
  detail: string | null;
  session: LiveCreated | null;
  options: LiveOptions;
}

/** How a finish() ended: the server has everything, or the recording must be uploaded. */
export type FinishResult = "stopped" | "upload";

/** How a discard ended: gone everywhere, or kept (marked) until the server can be told. */
export type DiscardResult = "discarded" | "pending";

/**
 * Discard a recording everywhere: cancel its session on the server (POST /live/{id}/cancel),
 * then forget its frames here. A recording whose session's id never arrived (the answer to
 * POST /live was lost) asks for it again with the same Idempotency-Key first: an answer means a
 * session exists (it is then cancelled), a refusal that none does. On a network failure or 5xx
 * the record is kept, marked `discarded`, and "pending" is returned: call again later.
 */
export async function discardRecording(record: LiveRecord, store: LiveStore, fetchImpl: typeof fetch = fetch): Promise<DiscardResult> {
  const marked = { ...record, discarded: true };
  await store.save(marked).catch(() => undefined);
  let liveId = record.liveId;
  if (!liveId) {
    const opened = await createLive(record.options, fetchImpl, record.key);
    if (opened.kind === "ok") {
      liveId = opened.session.live_id;
      await store.save({ ...marked, liveId }).catch(() => undefined);
    } else if (opened.kind === "retry" && opened.status !== 429) {
      return "pending"; // 429: refused for the quota, so no session exists for this key
    }
  }
  if (liveId) {
    const cancelled = await cancelLive(liveId, fetchImpl);
    if (cancelled.kind === "retry") return "pending";
  }
  await store.forget(record.key).catch(() => undefined);
  return "discarded";
}

export interface SenderOptions {
  store: LiveStore;
  fetch?: typeof fetch;
  retryMs?: number;
  maxRetryMs?: number;
  onChange?: (status: SenderStatus) => void;
  /** Where to listen for `online` (window in the browser). */
  events?: Pick<EventTarget, "addEventListener" | "removeEventListener">;
}

export class LiveSender {
  private record: LiveRecord;
  private readonly unsent = new Map<number, ArrayBuffer>();
  private state: SenderState;
  private detail: string | null = null;
  private session: LiveCreated | null = null;
  private failures = 0;
  private pumping = false;
  private finishing = false;
  private wake: (() => void) | null = null;
  private saving: Promise<void> = Promise.resolve();
  private idleWaiters: Array<() => void> = [];
  private readonly fetchImpl: typeof fetch;
  private readonly onOnline = () => this.kick();

  private constructor(
    record: LiveRecord,
    private readonly options: SenderOptions,
  ) {
    this.record = record;
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
    this.state = record.abandoned ? "ended" : record.stopSent ? "stopped" : record.liveId ? "sending" : "opening";
    options.events?.addEventListener("online", this.onOnline);
  }

  /** A new recording: stored at once, its session opened in the background. */
  static start(key: string, liveOptions: LiveOptions, options: SenderOptions): LiveSender {
    const record: LiveRecord = {
      key,
      liveId: null,
      streamUrl: null,
      options: liveOptions,
      createdAt: Date.now(),
      frames: 0,
      acked: 0,
      samples: 0,
      stopSent: false,
      abandoned: false,
    };
    const sender = new LiveSender(record, options);
    sender.persist();
    sender.run();
    return sender;
  }

  /** A recording left unfinished (a reload, a closed tab): sends what it lacks from the store. */
  static async resume(record: LiveRecord, options: SenderOptions): Promise<LiveSender> {
    // The record is written after its frames, so the store may hold a frame or two more than it
    // says; the frames stored (or acknowledged, if a write was lost) are the recording.
    const stored = await options.store.count(record.key).catch(() => record.frames);
    const frames = Math.max(stored, record.acked);
    return new LiveSender({ ...record, frames, samples: record.samples + Math.max(0, frames - record.frames) * 8_000 }, options);
  }

  get key(): string {
    return this.record.key;
  }

  get status(): SenderStatus {
    return {
      state: this.state,
      liveId: this.record.liveId,
      streamUrl: this.record.streamUrl,
      frames: this.record.frames,
      acked: this.record.acked,
      detail: this.detail,
      session: this.session,
      options: this.record.options,
    };
  }

  /** Seconds of audio produced so far. */
  get seconds(): number {
    return this.record.samples / 16_000;
  }

  /** Number a frame (PCM16 LE, 16 kHz mono), store it, and queue it; returns its seq. */
  push(pcm: ArrayBuffer): number {
    if (this.finishing) throw new Error("push after finish");
    // The server sets the largest frame it takes; larger ones are cut to fit (on a sample boundary).
    const max = this.session?.frame_max_bytes;
    if (max && pcm.byteLength > max) {
      const step = Math.max(2, max - (max % 2));
      let seq = -1;
      for (let offset = 0; offset < pcm.byteLength; offset += step) seq = this.push(pcm.slice(offset, offset + step));
      return seq;
    }
    const seq = this.record.frames;
    this.record.frames += 1;
    this.record.samples += pcm.byteLength / 2;
    this.unsent.set(seq, pcm);
    void this.options.store.saveFrame(this.record.key, seq, pcm).catch(() => undefined);
    this.persist();
    this.notify(); // the count of frames waiting is on screen while offline
    this.run(); // not kick(): a frame every 0.5 s must not cut a back-off short
    return seq;
  }

  /**
   * After the last push: send what is left, then POST /stop with the frame count. Resolves
   * "stopped" once the server has every frame, or "upload" when the session ended without them.
   */
  finish(): Promise<FinishResult> {
    this.finishing = true;
    this.run();
    return new Promise((resolve) => {
      const check = () => {
        if (this.state === "stopped") resolve("stopped");
        else if (this.state === "ended" || this.state === "disposed") resolve("upload");
        else this.idleWaiters.push(check);
      };
      check();
    });
  }

  /** Try now (the network is back, or the user asked) instead of waiting out the back-off. */
  kick(): void {
    if (this.wake) {
      const wake = this.wake;
      this.wake = null;
      wake();
    }
    this.run();
  }

  private run(): void {
    if (!this.pumping) void this.pump();
  }

  /** Stop sending (leaving the page, discarding); the stored frames stay until forgotten. */
  dispose(): void {
    this.state = "disposed";
    this.options.events?.removeEventListener("online", this.onOnline);
    this.kick();
    this.notify();
  }

  /**
   * The user discards the recording: sending stops, the server's session is cancelled (nothing
   * of it is kept there) and the frames are forgotten here. "pending" when the server could not
   * be reached: the record stays, marked, until `discardRecording` gets through.
   */
  async discard(): Promise<DiscardResult> {
    this.dispose();
    while (this.pumping) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    await this.flushed();
    return discardRecording(this.record, this.options.store, this.fetchImpl);
  }

  /** Writes the record in order, each write the latest state. */
  private persist(): void {
    const snapshot = { ...this.record };
    this.saving = this.saving.then(() => this.options.store.save(snapshot)).catch(() => undefined);
  }

  /** Resolves when every write so far has reached the store. */
  flushed(): Promise<void> {
    return this.saving;
  }

  /** A method, not a field read, so TypeScript does not narrow it across the awaits in pump(). */
  private isDisposed(): boolean {
    return this.state === "disposed";
  }

  private notify(): void {
    this.options.onChange?.(this.status);
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const check of waiters) check();
  }

  private set(state: SenderState, detail: string | null = this.detail): void {
    this.state = state;
    this.detail = detail;
    this.notify();
  }

  private async frame(seq: number): Promise<ArrayBuffer | null> {
    return this.unsent.get(seq) ?? (await this.options.store.frame(this.record.key, seq).catch(() => null));
  }

  private backoff(): Promise<void> {
    this.failures += 1;
    const { retryMs = 500, maxRetryMs = 8_000 } = this.options;
    const ms = Math.min(retryMs * 2 ** (this.failures - 1), maxRetryMs);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** Handles an answer; true when the loop should go on with the next step at once. */
  private async handle(result: LiveOutcome, onOk: () => void): Promise<boolean> {
    if (result.kind === "ok") {
      this.failures = 0;
      onOk();
      return true;
    }
    if (result.kind === "retry") {
      this.set("waiting", result.detail);
      await this.backoff();
      return true;
    }
    // 409 on stop, or on a frame once every frame is in: the session ended with all its audio.
    if (result.kind === "gone" && result.status === 409 && this.record.acked === this.record.frames && this.finishing) {
      this.record.stopSent = true;
      this.persist();
      this.set("stopped", result.detail);
      return false;
    }
    this.record.abandoned = true;
    this.persist();
    this.set("ended", result.detail);
    return false;
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      for (;;) {
        if (this.state === "stopped" || this.state === "ended" || this.state === "disposed") break;
        if (!this.record.liveId) {
          // The recording's key is the Idempotency-Key: a retry after a lost answer (or after a
          // reload) gets the session the first try started, never a second one.
          const opened = await createLive(this.record.options, this.fetchImpl, this.record.key);
          if (opened.kind === "ok") {
            // Kept even when disposed meanwhile, so a discard can cancel the session it opened.
            this.record.liveId = opened.session.live_id;
            this.record.streamUrl = opened.session.stream_url;
            this.persist();
          }
          if (this.isDisposed()) break;
          if (opened.kind === "ok") {
            this.session = opened.session;
            this.failures = 0;
            this.set("sending", null);
            continue;
          }
          if (!(await this.handle(opened, () => undefined))) break;
          continue;
        }
        const liveId = this.record.liveId;
        if (this.record.acked < this.record.frames) {
          const seq = this.record.acked;
          const pcm = await this.frame(seq);
          if (!pcm) {
            // Not in memory and not in the store: the recording has a hole only an upload can't fill either.
            if (!(await this.handle({ kind: "rejected", status: 0, detail: `frame ${seq} is missing` }, () => undefined))) break;
            continue;
          }
          const result = await sendLiveFrame(liveId, seq, pcm, this.fetchImpl);
          if (this.isDisposed()) break;
          const goOn = await this.handle(result, () => {
            this.unsent.delete(seq);
            this.record.acked = seq + 1;
            this.persist();
            this.set("sending", null);
          });
          if (!goOn) break;
          continue;
        }
        if (this.finishing && !this.record.stopSent) {
          const result = await stopLive(liveId, this.record.frames, this.fetchImpl);
          if (this.isDisposed()) break;
          const goOn = await this.handle(result, () => {
            this.record.stopSent = true;
            this.persist();
            this.set("stopped", null);
          });
          if (!goOn) break;
          continue;
        }
        if (this.record.stopSent) this.set("stopped");
        break; // nothing to do until the next push
      }
    } finally {
      this.pumping = false;
      this.notify();
    }
  }
}
