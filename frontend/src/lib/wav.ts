// PCM16 frames as one WAV file: the recording of a live session whose server session has ended
// before it had every frame goes through the ordinary upload path instead.
import { LIVE_RATE } from "./resampler";

/** A RIFF/WAVE file (PCM16 LE, mono) around `frames`. */
export function wavBlob(frames: ArrayBuffer[], rate: number = LIVE_RATE): Blob {
  const bytes = frames.reduce((n, f) => n + f.byteLength, 0);
  const header = new DataView(new ArrayBuffer(44));
  const ascii = (offset: number, text: string) => {
    for (let i = 0; i < text.length; i++) header.setUint8(offset + i, text.charCodeAt(i));
  };
  ascii(0, "RIFF");
  header.setUint32(4, 36 + bytes, true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  header.setUint32(16, 16, true); // fmt chunk size
  header.setUint16(20, 1, true); // PCM
  header.setUint16(22, 1, true); // mono
  header.setUint32(24, rate, true);
  header.setUint32(28, rate * 2, true); // bytes per second
  header.setUint16(32, 2, true); // block align
  header.setUint16(34, 16, true); // bits per sample
  ascii(36, "data");
  header.setUint32(40, bytes, true);
  return new Blob([header.buffer, ...frames], { type: "audio/wav" });
}
