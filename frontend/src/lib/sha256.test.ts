import { describe, expect, it } from "vitest";
import { fileSha256, SLICE_BYTES } from "./sha256";

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

describe("fileSha256", () => {
  it("gives the standard digest of an empty file", async () => {
    expect(await fileSha256(fileOf(new Uint8Array(0)))).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  });

  it("matches the platform's digest across slice boundaries", async () => {
    for (const size of [1, SLICE_BYTES - 1, SLICE_BYTES, SLICE_BYTES * 2 + 123]) {
      const bytes = random(size);
      expect(await fileSha256(fileOf(bytes)), `${size} bytes`).toBe(await reference(bytes));
    }
  });

  it("stops when asked", async () => {
    const stop = new AbortController();
    stop.abort();
    await expect(fileSha256(fileOf(random(SLICE_BYTES + 1)), stop.signal)).rejects.toThrow("cancelled");
  });
});
