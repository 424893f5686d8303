import { useCallback, useRef, useState } from "react";
import { ApiError, type JobOut } from "../api/client";
import { uploadAndTranscribe, type TranscribeChoices } from "../api/upload";
import { useEventStream } from "./useEventStream";

export type Phase = "idle" | "uploading" | "live" | "upload-failed";

/** Upload a file, start its job and follow its words live. */
export function useTranscription() {
  const [phase, setPhase] = useState<Phase>("idle");
  const [uploadProgress, setUploadProgress] = useState(0);
  const [job, setJob] = useState<JobOut | null>(null);
  const [uploadError, setUploadError] = useState<string | null>(null);
  /** The upload's error itself: an ApiError carries the server's code, for a translated message. */
  const [uploadFailure, setUploadFailure] = useState<unknown>(null);
  const abort = useRef<AbortController | null>(null);
  const stream = useEventStream(job?.stream_url ?? null);

  /** Send `file`; `sourceSha256` (its digest, when known) is kept with the transcript. */
  const start = useCallback(async (file: Blob, filename: string, choices: TranscribeChoices, sourceSha256?: string | null) => {
    abort.current?.abort();
    const controller = new AbortController();
    abort.current = controller;
    setJob(null);
    setUploadError(null);
    setUploadFailure(null);
    setUploadProgress(0);
    setPhase("uploading");
    try {
      const started = await uploadAndTranscribe(file, filename, choices, setUploadProgress, controller.signal, sourceSha256);
      setJob(started);
      setPhase("live");
      return true;
    } catch (e) {
      setUploadError(e instanceof ApiError ? e.message : String(e));
      setUploadFailure(e);
      setPhase("upload-failed");
      return false;
    }
  }, []);

  const reset = useCallback(() => {
    abort.current?.abort();
    setJob(null);
    setUploadError(null);
    setUploadFailure(null);
    setUploadProgress(0);
    setPhase("idle");
  }, []);

  return { phase, uploadProgress, job, uploadError, uploadFailure, stream, start, reset };
}
