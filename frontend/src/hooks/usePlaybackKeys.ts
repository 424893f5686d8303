import { useEffect, type RefObject } from "react";

/** Whether a key press belongs to what has the focus (typing, a button, a list), not to the player. */
export function isTypingTarget(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  return ["INPUT", "TEXTAREA", "SELECT", "BUTTON", "AUDIO", "VIDEO", "SUMMARY", "A"].includes(target.tagName);
}

/** Space plays or pauses the audio, except while the user types in a field or presses a button. */
export function usePlaybackKeys(audio: RefObject<HTMLAudioElement | null>): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== " " || e.repeat || e.ctrlKey || e.metaKey || e.altKey || isTypingTarget(e.target)) return;
      const el = audio.current;
      if (!el) return;
      e.preventDefault(); // not a page scroll
      if (el.paused) void el.play().catch(() => {});
      else el.pause();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [audio]);
}
