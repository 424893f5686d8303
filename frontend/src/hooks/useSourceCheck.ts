// Was this file sent before? The file's SHA-256, computed once per file picked, and the newest
// transcript of the same bytes in the library (GET /transcripts?source_sha256=).
import { useEffect, useState } from "react";
import { api, request, type TranscriptSummary } from "../api/client";
import { fileSha256 } from "../lib/sha256";

interface Digest {
  digest: Promise<string | null>;
  stop: AbortController;
  done: boolean;
}

// One digest per file picked: asked again (leaving the screen and coming back, or sending), the
// bytes are not read again.
const digests = new WeakMap<File, Digest>();

function digestOf(file: File): Promise<string | null> {
  let entry = digests.get(file);
  if (!entry) {
    const stop = new AbortController();
    const made: Digest = { stop, done: false, digest: Promise.resolve(null) };
    made.digest = fileSha256(file, stop.signal).then(
      (hex) => {
        made.done = true;
        return hex;
      },
      () => {
        digests.delete(file);
        return null; // unreadable or cancelled: nothing to compare, nothing to warn about
      },
    );
    digests.set(file, made);
    entry = made;
  }
  return entry.digest;
}

/** A digest still being computed for a file no longer wanted stops reading it. */
function forget(file: File): void {
  const entry = digests.get(file);
  if (entry && !entry.done) {
    entry.stop.abort();
    digests.delete(file);
  }
}

export interface SourceFacts {
  /** The file's SHA-256, or null when it could not be read. */
  sha256: string | null;
  /** The newest transcript of the same bytes, or null (none, or the library could not be asked). */
  earlier: TranscriptSummary | null;
}

/** Ask the library for transcripts of `file` (its digest computed once, the question asked anew). */
export async function checkSource(file: File): Promise<SourceFacts> {
  const sha256 = await digestOf(file);
  if (!sha256) return { sha256, earlier: null };
  try {
    const page = await request(api.GET("/transcripts", { params: { query: { source_sha256: sha256, limit: 1 } } }));
    return { sha256, earlier: page.items[0] ?? null };
  } catch {
    return { sha256, earlier: null }; // the warning is a courtesy: without an answer, the file still goes
  }
}

/**
 * Whether the file picked was transcribed before: checked as soon as it is picked, so the
 * warning shows before anything is sent. `verify` asks again just before sending (a job made
 * since, e.g. the same file sent a minute ago, counts).
 */
export function useSourceCheck(file: File | null) {
  const [state, setState] = useState<SourceFacts & { file: File | null; checking: boolean }>({ file: null, sha256: null, earlier: null, checking: false });
  useEffect(() => {
    if (!file) {
      setState({ file: null, sha256: null, earlier: null, checking: false });
      return;
    }
    let live = true;
    setState({ file, sha256: null, earlier: null, checking: true });
    void checkSource(file).then((facts) => {
      if (live) setState({ file, ...facts, checking: false });
    });
    return () => {
      live = false;
      forget(file);
    };
  }, [file]);

  // A state left over from the file picked before is not this file's.
  const mine = state.file === file;
  return {
    checking: mine ? state.checking : file !== null,
    sha256: mine ? state.sha256 : null,
    earlier: mine ? state.earlier : null,
    verify: checkSource,
  };
}
