// The microphone as 16 kHz PCM16 frames of ~0.5 s (lib/pcmWorklet.ts on the audio thread),
// with a live level (0..1), the elapsed time and pause/resume.
import { useCallback, useEffect, useRef, useState } from "react";
import type { WorkletCommand, WorkletMessage } from "../lib/pcmWorklet";
import { FRAME_SAMPLES } from "../lib/resampler";
import workletUrl from "../lib/pcmWorklet?worker&url";
import type { RecorderError, RecorderState } from "./useRecorder";

function describe(err: unknown): RecorderError {
  const name = (err as { name?: string })?.name;
  if (name === "NotAllowedError" || name === "SecurityError") return "denied";
  if (name === "NotFoundError" || name === "OverconstrainedError") return "no-device";
  return "other";
}

export function liveCaptureSupported(): boolean {
  return (
    typeof window !== "undefined" &&
    typeof AudioContext !== "undefined" &&
    typeof AudioWorkletNode !== "undefined" &&
    !!navigator.mediaDevices?.getUserMedia
  );
}

export function useLiveRecorder() {
  const [state, setState] = useState<RecorderState>("idle");
  const [error, setError] = useState<RecorderError | null>(null);
  const [level, setLevel] = useState(0);
  const [elapsed, setElapsed] = useState(0);
  const stream = useRef<MediaStream | null>(null);
  const audioCtx = useRef<AudioContext | null>(null);
  const node = useRef<AudioWorkletNode | null>(null);
  const raf = useRef<number | null>(null);
  const clock = useRef({ since: 0, banked: 0 });
  const tick = useRef<ReturnType<typeof setInterval> | null>(null);
  const flushed = useRef<(() => void) | null>(null);

  const release = useCallback(() => {
    if (raf.current != null) cancelAnimationFrame(raf.current);
    raf.current = null;
    if (tick.current) clearInterval(tick.current);
    tick.current = null;
    stream.current?.getTracks().forEach((track) => track.stop());
    stream.current = null;
    if (node.current) node.current.port.onmessage = null;
    node.current?.disconnect();
    node.current = null;
    audioCtx.current?.close().catch(() => {});
    audioCtx.current = null;
    setLevel(0);
  }, []);

  useEffect(() => release, [release]);

  const running = () => clock.current.banked + (clock.current.since ? (performance.now() - clock.current.since) / 1000 : 0);
  const command = (c: WorkletCommand) => node.current?.port.postMessage(c);

  /** Ask for the microphone and start; every frame goes to `onFrame`. False when it could not start. */
  const start = useCallback(
    async (onFrame: (pcm: ArrayBuffer) => void): Promise<boolean> => {
      setError(null);
      if (!window.isSecureContext) {
        setError("insecure");
        return false;
      }
      if (!liveCaptureSupported()) {
        setError("unsupported");
        return false;
      }
      setState("requesting");
      let media: MediaStream;
      try {
        media = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true, channelCount: 1 } });
      } catch (err) {
        setState("idle");
        setError(describe(err));
        return false;
      }
      stream.current = media;
      try {
        const ctx = new AudioContext();
        audioCtx.current = ctx;
        await ctx.audioWorklet.addModule(workletUrl);
        const source = ctx.createMediaStreamSource(media);
        const worklet = new AudioWorkletNode(ctx, "pcm-capture", {
          numberOfInputs: 1,
          numberOfOutputs: 1,
          outputChannelCount: [1],
          processorOptions: { frameSamples: FRAME_SAMPLES },
        });
        worklet.port.onmessage = (event: MessageEvent<WorkletMessage>) => {
          if (event.data.type === "frame") onFrame(event.data.pcm);
          else if (event.data.type === "flushed") flushed.current?.();
        };
        source.connect(worklet);
        // A node nobody listens to may not be run; its output is silence (process() writes none).
        worklet.connect(ctx.destination);
        node.current = worklet;
        // Level meter: RMS of the analyser's waveform, every animation frame.
        const analyser = ctx.createAnalyser();
        analyser.fftSize = 1024;
        source.connect(analyser);
        const buffer = new Float32Array(analyser.fftSize);
        const loop = () => {
          analyser.getFloatTimeDomainData(buffer);
          let sum = 0;
          for (const v of buffer) sum += v * v;
          setLevel(Math.min(1, Math.sqrt(sum / buffer.length) * 4));
          raf.current = requestAnimationFrame(loop);
        };
        loop();
        if (ctx.state === "suspended") await ctx.resume();
      } catch {
        release();
        setState("idle");
        setError("unsupported");
        return false;
      }
      clock.current = { since: performance.now(), banked: 0 };
      setElapsed(0);
      tick.current = setInterval(() => setElapsed(running()), 250);
      setState("recording");
      return true;
    },
    [release],
  );

  const pause = useCallback(() => {
    if (!node.current || clock.current.since === 0) return;
    command({ type: "pause" });
    clock.current = { since: 0, banked: running() };
    setElapsed(clock.current.banked);
    setState("paused");
  }, []);

  const resume = useCallback(() => {
    if (!node.current || clock.current.since !== 0) return;
    command({ type: "resume" });
    clock.current = { ...clock.current, since: performance.now() };
    setState("recording");
  }, []);

  /** Stop: resolves once the worklet has posted its last (short) frame, and the microphone is off. */
  const stop = useCallback(async (): Promise<void> => {
    if (!node.current) return;
    const seconds = running();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 3000); // a worklet that never answers must not hang Stop
      flushed.current = () => {
        clearTimeout(timer);
        resolve();
      };
      command({ type: "flush" });
    });
    flushed.current = null;
    clock.current = { since: 0, banked: seconds };
    release();
    setElapsed(seconds);
    setState("stopped");
  }, [release]);

  const reset = useCallback(() => {
    release();
    clock.current = { since: 0, banked: 0 };
    setElapsed(0);
    setState("idle");
  }, [release]);

  return { state, error, level, elapsed, start, pause, resume, stop, reset };
}
