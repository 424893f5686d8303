import { useCallback, useEffect, useState, type RefObject } from "react";

/**
 * The audio element's current time, followed smoothly while it plays (timeupdate alone fires
 * only ~4 times a second). `src` re-attaches the listeners when the player is (re)made.
 * Returns the time and `seek(to)`, which moves the player there, shows it at once and plays.
 */
export function usePlaybackTime(audio: RefObject<HTMLAudioElement | null>, src: string | null | undefined): [number, (to: number) => void] {
  const [time, setTime] = useState(0);
  useEffect(() => {
    const el = audio.current;
    if (!el) return;
    let raf = 0;
    const frame = () => {
      setTime(el.currentTime);
      if (!el.paused) raf = requestAnimationFrame(frame);
    };
    const onPlay = () => {
      cancelAnimationFrame(raf);
      raf = requestAnimationFrame(frame);
    };
    const onUpdate = () => setTime(el.currentTime);
    el.addEventListener("play", onPlay);
    el.addEventListener("timeupdate", onUpdate);
    el.addEventListener("seeked", onUpdate);
    return () => {
      cancelAnimationFrame(raf);
      el.removeEventListener("play", onPlay);
      el.removeEventListener("timeupdate", onUpdate);
      el.removeEventListener("seeked", onUpdate);
    };
  }, [audio, src]);
  const seek = useCallback(
    (to: number) => {
      const el = audio.current;
      if (!el) return;
      el.currentTime = to;
      setTime(to);
      void el.play().catch(() => {});
    },
    [audio],
  );
  return [time, seek];
}
