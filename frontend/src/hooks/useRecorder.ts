import { useCallback, useEffect, useRef, useState } from "react";

// WebM/Opus where supported (Chrome, Firefox, Edge), else MP4/AAC (Safari).
export const CANDIDATE_TYPES = [
  "audio/webm;codecs=opus",
  "audio/webm",
  "audio/mp4;codecs=mp4a.40.2",
  "audio/mp4",
  "audio/ogg;codecs=opus",
];

export function pickMimeType(isSupported: (type: string) => boolean = (t) => MediaRecorder.isTypeSupported(t)): string | null {
  for (const type of CANDIDATE_TYPES) if (isSupported(type)) return type;
  return null;
}

export function extensionFor(mime: string): string {
  if (mime.startsWith("audio/mp4")) return "m4a";
  if (mime.startsWith("audio/ogg")) return "ogg";
  return "webm";
}

export type RecorderState = "idle" | "requesting" | "recording" | "paused" | "stopped";
export type RecorderError = "denied" | "no-device" | "unsupported" | "insecure" | "other";

export interface Recording {
  blob: Blob;
  mimeType: string;
  filename: string;
  seconds: number;
}

function describe(err: unknown): RecorderError {
  const name = (err as { name?: string })?.name;
  if (name === "NotAllowedError" || name === "SecurityError") return "denied";
  if (name === "NotFoundError" || name === "OverconstrainedError") return "no-device";
  return "other";
}

/** Microphone recording with a live level (0..1), elapsed time and pause/resume. */
export function useRecorder() {
  const [state, setState] = useState<RecorderState>("idle");
  const [error, setError] = useState<RecorderError | null>(null);
  const [level, setLevel] = useState(0);
  const [elapsed, setElapsed] = useState(0);
  const [mimeType, setMimeType] = useState<string | null>(null);
  const recorder = useRef<MediaRecorder | null>(null);
  const stream = useRef<MediaStream | null>(null);
  const audioCtx = useRef<AudioContext | null>(null);
  const raf = useRef<number | null>(null);
  const chunks = useRef<Blob[]>([]);
  const clock = useRef({ since: 0, banked: 0 });
  const tick = useRef<ReturnType<typeof setInterval> | null>(null);

  const release = useCallback(() => {
    if (raf.current != null) cancelAnimationFrame(raf.current);
    raf.current = null;
    if (tick.current) clearInterval(tick.current);
    tick.current = null;
    stream.current?.getTracks().forEach((track) => track.stop());
    stream.current = null;
    audioCtx.current?.close().catch(() => {});
    audioCtx.current = null;
    setLevel(0);
  }, []);

  useEffect(() => release, [release]);

  const running = () => clock.current.banked + (clock.current.since ? (performance.now() - clock.current.since) / 1000 : 0);

  const start = useCallback(async () => {
    setError(null);
    if (!window.isSecureContext) return setError("insecure");
    if (typeof MediaRecorder === "undefined" || !navigator.mediaDevices?.getUserMedia) return setError("unsupported");
    const type = pickMimeType();
    if (!type) return setError("unsupported");
    setState("requesting");
    let media: MediaStream;
    try {
      media = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true } });
    } catch (err) {
      setState("idle");
      return setError(describe(err));
    }
    stream.current = media;
    // Level meter: RMS of the analyser's waveform, every animation frame.
    try {
      const ctx = new AudioContext();
      audioCtx.current = ctx;
      const analyser = ctx.createAnalyser();
      analyser.fftSize = 1024;
      ctx.createMediaStreamSource(media).connect(analyser);
      const buffer = new Float32Array(analyser.fftSize);
      const loop = () => {
        analyser.getFloatTimeDomainData(buffer);
        let sum = 0;
        for (const v of buffer) sum += v * v;
        const rms = Math.sqrt(sum / buffer.length);
        setLevel(Math.min(1, rms * 4));
        raf.current = requestAnimationFrame(loop);
      };
      loop();
    } catch {
      /* no meter, still records */
    }
    const rec = new MediaRecorder(media, { mimeType: type });
    chunks.current = [];
    rec.ondataavailable = (e) => {
      if (e.data.size) chunks.current.push(e.data);
    };
    recorder.current = rec;
    rec.start(1000);
    setMimeType(type);
    clock.current = { since: performance.now(), banked: 0 };
    setElapsed(0);
    tick.current = setInterval(() => setElapsed(running()), 250);
    setState("recording");
  }, []);

  const pause = useCallback(() => {
    if (recorder.current?.state !== "recording") return;
    recorder.current.pause();
    clock.current = { since: 0, banked: running() };
    setElapsed(clock.current.banked);
    setState("paused");
  }, []);

  const resume = useCallback(() => {
    if (recorder.current?.state !== "paused") return;
    recorder.current.resume();
    clock.current = { ...clock.current, since: performance.now() };
    setState("recording");
  }, []);

  const stop = useCallback(
    () =>
      new Promise<Recording | null>((resolve) => {
        const rec = recorder.current;
        if (!rec || rec.state === "inactive") return resolve(null);
        const seconds = running();
        rec.onstop = () => {
          const type = (rec.mimeType || mimeType || "audio/webm").split(";")[0];
          const blob = new Blob(chunks.current, { type });
          const stamp = new Date().toISOString().slice(0, 16).replace("T", "-").replace(":", "");
          release();
          setElapsed(seconds);
          setState("stopped");
          resolve({ blob, mimeType: type, filename: `grabacion-${stamp}.${extensionFor(type)}`, seconds });
        };
        rec.stop();
      }),
    [mimeType, release],
  );

  const reset = useCallback(() => {
    release();
    recorder.current = null;
    chunks.current = [];
    setElapsed(0);
    setState("idle");
  }, [release]);

  return { state, error, level, elapsed, mimeType, start, pause, resume, stop, reset };
}
