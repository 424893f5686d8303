import { api, ApiError, unwrap, type JobOut, type QualityProfile, type UploadOut } from "./client";

export interface TranscribeChoices {
  language: string; // "" = detect
  profile: QualityProfile;
  word_timestamps: boolean;
  diarization: boolean;
  title: string;
  tags: string;
  hotwords: string; // words to favour, e.g. names and jargon
  initial_prompt: string;
  translate: boolean; // English text from speech in any language
  final_pass?: boolean | null; // live only; null = on for "precise" or speakers
}

export const defaultChoices: TranscribeChoices = {
  language: "",
  profile: "balanced",
  word_timestamps: true,
  diarization: false,
  title: "",
  tags: "",
  hotwords: "",
  initial_prompt: "",
  translate: false,
};

// Headers a browser sets itself; XHR refuses them.
const FORBIDDEN = new Set(["content-length", "host", "connection", "accept-encoding"]);

/** PUT the bytes to the presigned URL, reporting progress as a fraction 0..1. */
export function putWithProgress(
  upload: Pick<UploadOut, "url" | "headers">,
  body: Blob,
  onProgress: (fraction: number) => void,
  signal?: AbortSignal,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", upload.url);
    for (const [name, value] of Object.entries(upload.headers ?? {}))
      if (!FORBIDDEN.has(name.toLowerCase())) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && e.total > 0) onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve();
      } else reject(new ApiError(xhr.status, `storage answered HTTP ${xhr.status}`));
    };
    xhr.onerror = () => reject(new ApiError(0, "network error while uploading"));
    xhr.onabort = () => reject(new ApiError(0, "upload cancelled"));
    signal?.addEventListener("abort", () => xhr.abort());
    xhr.send(body);
  });
}

/** A MIME type without parameters ("audio/webm;codecs=opus" → "audio/webm"). */
export function baseType(file: Blob & { name?: string }): string {
  const type = (file.type || "").split(";")[0].trim();
  return type || "application/octet-stream";
}

/** POST /uploads → PUT to S3 with progress → POST /transcribe {upload_id, ...}; `sourceSha256`,
 * the file's digest, is kept with the transcript (GET /transcripts?source_sha256= finds it). */
export async function uploadAndTranscribe(
  file: Blob,
  filename: string,
  choices: TranscribeChoices,
  onProgress: (fraction: number) => void,
  signal?: AbortSignal,
  sourceSha256?: string | null,
): Promise<JobOut> {
  const upload = await unwrap<UploadOut>(
    api.POST("/uploads", { body: { filename, content_type: baseType(file), size: file.size } }),
  );
  await putWithProgress(upload, file, onProgress, signal);
  const tags = choices.tags
    .split(",")
    .map((t) => t.trim())
    .filter(Boolean);
  return unwrap<JobOut>(
    api.POST("/transcribe", {
      body: {
        upload_id: upload.upload_id,
        language: choices.language || null,
        profile: choices.profile,
        word_timestamps: choices.word_timestamps,
        diarization: choices.diarization,
        title: choices.title.trim() || null,
        hotwords: choices.hotwords.trim() || null,
        initial_prompt: choices.initial_prompt.trim() || null,
        task: choices.translate ? "translate" : "transcribe",
        temperature: null,
        ...(tags.length ? { tags } : {}),
        ...(sourceSha256 ? { source_sha256: sourceSha256 } : {}),
      },
    }),
  );
}
