// The data layer: every screen reads the API through these hooks, which own caching,
// pagination and polling (TanStack Query). Types come from the generated schema.
import { QueryClient, useInfiniteQuery, useMutation, useQuery, useQueryClient, type InfiniteData } from "@tanstack/react-query";
import { api, ApiError, publicApi, request, unwrap, type JobStatus, type ShareLink, type TranscriptDetail, type TranscriptPage, type TranscriptSummary, type TranscriptPatch } from "./client";

/** How often a list or a transcript with a running job is refreshed. */
export const RUNNING_REFRESH_MS = 3000;
const RUNNING: ReadonlyArray<JobStatus> = ["queued", "processing", "live"];

export function isRunning(status: JobStatus | null | undefined): boolean {
  return status != null && RUNNING.includes(status);
}

export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      // A 4xx will not get better by asking again; a network error might.
      queries: { retry: (failures, error) => failures < 2 && !(error instanceof ApiError && error.status >= 400), refetchOnWindowFocus: false },
    },
  });
}

export const keys = {
  transcripts: ["transcripts"] as const,
  list: (search: string, status: JobStatus | "") => ["transcripts", "list", { search, status }] as const,
  transcript: (id: string) => ["transcripts", "one", id] as const,
  usage: ["usage"] as const,
  languages: ["me", "languages"] as const,
  integrations: ["integrations"] as const,
  shares: (id: string) => ["transcripts", "shares", id] as const,
  shared: (token: string) => ["shared", token] as const,
};

/** What the library searches for: "#radio" finds the tag "radio". */
export function searchTerms(text: string): string {
  return text
    .trim()
    .replace(/(^|\s)#+/g, "$1")
    .trim();
}

/**
 * The library, page by page. While a job on any loaded page runs, every loaded page is
 * refreshed (TanStack refetches an infinite query page by page from the first cursor), so
 * the pages brought in with "Cargar más" stay.
 */
export function useTranscriptList(search: string, status: JobStatus | "") {
  return useInfiniteQuery({
    queryKey: keys.list(search, status),
    initialPageParam: null as string | null,
    queryFn: ({ pageParam, signal }) =>
      request(
        api.GET("/transcripts", {
          params: { query: { search: search || undefined, status: status || undefined, limit: 20, cursor: pageParam ?? undefined } },
          signal,
        }),
      ),
    getNextPageParam: (last: TranscriptPage) => last.next_cursor ?? null,
    refetchInterval: (query) =>
      query.state.data?.pages.some((p) => p.items.some((i) => isRunning(i.status))) ? RUNNING_REFRESH_MS : false,
  });
}

export function allItems(data: InfiniteData<TranscriptPage> | undefined): TranscriptSummary[] {
  return data?.pages.flatMap((p) => p.items) ?? [];
}

/** One transcript; polled while its job is queued, running or live, so it turns into the text by itself. */
export function useTranscript(id: string) {
  return useQuery({
    queryKey: keys.transcript(id),
    queryFn: ({ signal }) => request(api.GET("/transcripts/{transcript_id}", { params: { path: { transcript_id: id } }, signal })),
    refetchInterval: (query) => (isRunning(query.state.data?.status) ? RUNNING_REFRESH_MS : false),
  });
}

export function useUsage() {
  return useQuery({ queryKey: keys.usage, queryFn: ({ signal }) => request(api.GET("/me/usage", { signal })) });
}

/** Title, tags or lines of a transcript; the list and the transcript are refreshed after. */
export function useUpdateTranscript(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: TranscriptPatch) =>
      request(api.PATCH("/transcripts/{transcript_id}", { params: { path: { transcript_id: id } }, body })),
    onSuccess: (updated) => {
      client.setQueryData<TranscriptDetail>(keys.transcript(id), updated);
      void client.invalidateQueries({ queryKey: [...keys.transcripts, "list"] });
    },
  });
}

export function useDeleteTranscript(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => unwrap<void>(api.DELETE("/transcripts/{transcript_id}", { params: { path: { transcript_id: id } } })),
    onSuccess: () => {
      client.removeQueries({ queryKey: keys.transcript(id) });
      client.setQueriesData<InfiniteData<TranscriptPage>>({ queryKey: [...keys.transcripts, "list"] }, (data) =>
        data ? { ...data, pages: data.pages.map((p) => ({ ...p, items: p.items.filter((i) => i.id !== id) })) } : data,
      );
      void client.invalidateQueries({ queryKey: [...keys.transcripts, "list"] });
    },
  });
}

/** The languages the account's owner speaks, preferred first (GET /me/languages). */
export function useLanguages(enabled = true) {
  return useQuery({
    queryKey: keys.languages,
    queryFn: ({ signal }) => request(api.GET("/me/languages", { signal })),
    select: (data) => data.languages,
    staleTime: 60_000,
    enabled,
  });
}

/** Replace the account's languages (PUT /me/languages); the answer (cleaned by the server) is kept. */
export function useSaveLanguages() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (languages: string[]) => request(api.PUT("/me/languages", { body: { languages } })),
    onSuccess: (saved) => client.setQueryData(keys.languages, saved),
  });
}

/**
 * Transcribe a transcript's audio again as a new job (POST /transcripts/{id}/retranscribe),
 * in `language` (forced; "any" or undefined: detected again). The new job's transcript has its
 * own id (`job_id`); the old one stays.
 */
export function useRetranscribe(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (language: string | undefined) =>
      request(api.POST("/transcripts/{transcript_id}/retranscribe", { params: { path: { transcript_id: id } }, body: { language: language ?? null } })),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: [...keys.transcripts, "list"] });
      void client.invalidateQueries({ queryKey: keys.usage });
    },
  });
}

/** End every session of the account, this one too (POST /me/sign-out-everywhere). */
export function useSignOutEverywhere() {
  return useMutation({ mutationFn: () => unwrap<void>(api.POST("/me/sign-out-everywhere")) });
}

/** Delete the account and everything it owns (DELETE /me). */
export function useDeleteAccount() {
  return useMutation({ mutationFn: () => unwrap<void>(api.DELETE("/me")) });
}

/** The share links of one transcript that still open (GET /transcripts/{id}/shares). */
export function useShares(id: string, enabled = true) {
  return useQuery({
    queryKey: keys.shares(id),
    queryFn: ({ signal }) => request(api.GET("/transcripts/{transcript_id}/shares", { params: { path: { transcript_id: id } }, signal })),
    enabled,
  });
}

/** A new share link; the answer is the only time its token (and so its address) is known. */
export function useCreateShare(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (days: number) =>
      request(api.POST("/transcripts/{transcript_id}/shares", { params: { path: { transcript_id: id } }, body: { expires_in_days: days } })),
    onSuccess: () => void client.invalidateQueries({ queryKey: keys.shares(id) }),
  });
}

/** Revoke a share link: it stops opening at once. */
export function useRevokeShare(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (shareId: string) =>
      unwrap<void>(api.DELETE("/transcripts/{transcript_id}/shares/{share_id}", { params: { path: { transcript_id: id, share_id: shareId } } })),
    onSuccess: (_, shareId) => {
      client.setQueryData<ShareLink[]>(keys.shares(id), (links) => links?.filter((l) => l.id !== shareId));
      void client.invalidateQueries({ queryKey: keys.shares(id) });
    },
  });
}

/** A shared transcript, read without a session (GET /shared/{token}); a 404 means the link does not open. */
export function useSharedTranscript(token: string) {
  return useQuery({
    queryKey: keys.shared(token),
    queryFn: ({ signal }) => request(publicApi.GET("/shared/{token}", { params: { path: { token } }, signal })),
    staleTime: Infinity,
  });
}
