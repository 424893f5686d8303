import { describe, expect, it } from "vitest";
import { wavBlob } from "./wav";

describe("wavBlob", () => {
  it("wraps PCM16 frames in a 16 kHz mono WAV header", async () => {
    const frames = [new Int16Array([1, 2, 3]).buffer, new Int16Array([4, 5]).buffer];
    const blob = wavBlob(frames);
    expect(blob.type).toBe("audio/wav");
    // jsdom's Blob has no arrayBuffer(); FileReader reads it.
    const bytes = await new Promise<ArrayBuffer>((resolve) => {
      const reader = new FileReader();
      reader.onload = () => resolve(reader.result as ArrayBuffer);
      reader.readAsArrayBuffer(blob);
    });
    const view = new DataView(bytes);
    const ascii = (o: number) => String.fromCharCode(...new Uint8Array(bytes, o, 4));
    expect([ascii(0), ascii(8), ascii(12), ascii(36)]).toEqual(["RIFF", "WAVE", "fmt ", "data"]);
    expect(view.getUint32(4, true)).toBe(36 + 10);
    expect(view.getUint16(22, true)).toBe(1);
    expect(view.getUint32(24, true)).toBe(16_000);
    expect(view.getUint16(34, true)).toBe(16);
    expect(view.getUint32(40, true)).toBe(10);
    expect(Array.from(new Int16Array(bytes, 44))).toEqual([1, 2, 3, 4, 5]);
  });
});
