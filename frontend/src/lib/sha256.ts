// SHA-256 of a file, read a slice at a time.
//
// crypto.subtle.digest takes the whole file at once (500 MB in memory for the largest upload)
// and exists only in a secure context: a self-hosted server reached over plain HTTP on a LAN
// has none. So the digest is @noble/hashes' incremental SHA-256, fed one slice at a time,
// yielding to the page between slices.
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";

/** Bytes read and hashed per step: a few milliseconds of work, so the page keeps answering. */
export const SLICE_BYTES = 1 << 20;

/** The SHA-256 (lowercase hex) of a file's bytes, read a slice at a time; rejects with an
 * AbortError once `signal` aborts. */
export async function fileSha256(file: Blob, signal?: AbortSignal): Promise<string> {
  const hash = sha256.create();
  for (let at = 0; at < file.size; at += SLICE_BYTES) {
    if (signal?.aborted) throw new DOMException("hashing cancelled", "AbortError");
    hash.update(new Uint8Array(await file.slice(at, at + SLICE_BYTES).arrayBuffer()));
  }
  if (signal?.aborted) throw new DOMException("hashing cancelled", "AbortError");
  return bytesToHex(hash.digest());
}
