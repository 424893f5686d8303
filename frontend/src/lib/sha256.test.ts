import { describe, expect, it } from "vitest";
import { fileSha256, Sha256, SLICE_BYTES } from "./sha256";

async function reference(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

function random(size: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(size);
  for (let at = 0; at < size; at += 65536) crypto.getRandomValues(bytes.subarray(at, at + 65536));
  return bytes;
}

/** A file as fileSha256 reads it (jsdom's Blob cannot read itself back). */
function fileOf(bytes: Uint8Array): Blob {
  return { size: bytes.length, slice: (start: number, end: number) => ({ arrayBuffer: async () => bytes.slice(start, end).buffer }) } as unknown as Blob;
}

describe("Sha256", () => {
  it("gives the standard digests", () => {
    expect(new Sha256().hex()).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(new Sha256().update(new TextEncoder().encode("abc")).hex()).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });

  it("matches the platform's digest at every padding boundary, however the bytes are cut", async () => {
    for (const size of [1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000, 4097]) {
      const bytes = random(size);
      const expected = await reference(bytes);
      expect(new Sha256().update(bytes).hex(), `${size} bytes`).toBe(expected);
      const cut = new Sha256();
      for (let at = 0; at < size; at += 7) cut.update(bytes.subarray(at, at + 7));
      expect(cut.hex(), `${size} bytes in pieces of 7`).toBe(expected);
    }
  });

  it("hashes a file slice by slice, and stops when asked", async () => {
    const bytes = random(SLICE_BYTES * 2 + 123);
    expect(await fileSha256(fileOf(bytes))).toBe(await reference(bytes));
    const stop = new AbortController();
    stop.abort();
    await expect(fileSha256(fileOf(bytes), stop.signal)).rejects.toThrow("cancelled");
  });
});
