import { renderHook, waitFor } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { streamReducer, initialStreamState, useEventStream } from "./useEventStream";

const encoder = new TextEncoder();

function sse(events: Array<[number, string, unknown]>): string {
  return events.map(([id, event, data]) => `id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`).join("");
}

/** A 200 text/event-stream response that sends `text` and then closes (or stays open). */
function streamResponse(text: string, keepOpen = false): Response {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(text));
      if (!keepOpen) controller.close();
    },
  });
  return new Response(body, { status: 200, headers: { "content-type": "text/event-stream" } });
}

/** Records the Last-Event-ID each request was sent with (the library mutates its headers later). */
function recording(mock: ReturnType<typeof vi.fn>) {
  const sent: Array<string | undefined> = [];
  const wrapped = (input: RequestInfo | URL, init?: RequestInit) => {
    sent.push(((init?.headers ?? {}) as Record<string, string>)["last-event-id"]);
    return mock(input, init);
  };
  return { fetch: wrapped as typeof fetch, sent };
}

const word = (text: string, t0: number) => ({ text, t0, t1: t0 + 0.4 });

describe("useEventStream", () => {
  it("applies deltas, progress and completion in order", async () => {
    const fetchMock = vi.fn(async () =>
      streamResponse(
        ": heartbeat\n\n" +
          sse([
            [0, "delta", word(" And", 0)],
            [1, "delta", word(" so", 0.5)],
            [2, "progress", { progress: 0.5, processed_s: 5.5, duration_s: 11 }],
            [3, "completed", { job_id: "J", language: "en", duration: 11 }],
          ]),
      ),
    );
    const rec = recording(fetchMock);
    const { result } = renderHook(() => useEventStream("/transcribe/J?token=t", { fetch: rec.fetch }));
    await waitFor(() => expect(result.current.status).toBe("completed"));
    expect(result.current.words.map((w) => w.text)).toEqual([" And", " so"]);
    expect(result.current.words[1].t0).toBe(0.5);
    expect(result.current.progress).toBe(1);
    expect(result.current.completed?.language).toBe("en");
    expect(fetchMock).toHaveBeenCalledTimes(1);
    expect(rec.sent).toEqual([undefined]);
  });

  it("reconnects after a dropped connection and resumes from the last seq", async () => {
    const fetchMock = vi
      .fn()
      // first connection: two words, then the connection drops mid-job
      .mockImplementationOnce(async () => streamResponse(sse([[0, "delta", word(" Ask", 0)], [1, "delta", word(" not", 0.4)]])))
      // second: the network is down
      .mockImplementationOnce(async () => {
        throw new TypeError("Failed to fetch");
      })
      // third: the relay replays from after Last-Event-ID (here it also repeats seq 1, which must be ignored)
      .mockImplementationOnce(async () =>
        streamResponse(
          sse([
            [1, "delta", word(" not", 0.4)],
            [2, "delta", word(" what", 0.8)],
            [3, "completed", { job_id: "J" }],
          ]),
        ),
      );
    const rec = recording(fetchMock);
    const { result } = renderHook(() => useEventStream("/transcribe/J?token=t", { fetch: rec.fetch, retryMs: 5 }));
    await waitFor(() => expect(result.current.status).toBe("completed"));
    expect(fetchMock).toHaveBeenCalledTimes(3);
    expect(rec.sent).toEqual([undefined, "1", "1"]);
    expect(result.current.words.map((w) => w.text.trim())).toEqual(["Ask", "not", "what"]);
    expect(result.current.reconnects).toBe(2);
    expect(result.current.lastSeq).toBe(3);
  });

  it("resumes a stream the relay ended on purpose (retry hint) without counting a reconnect", async () => {
    const fetchMock = vi
      .fn()
      // the relay's planned end before Lambda's limit: events, then a bare `retry:` line, then close
      .mockImplementationOnce(async () => streamResponse(sse([[0, "delta", word(" Ask", 0)]]) + "retry: 5\n\n"))
      .mockImplementationOnce(async () =>
        streamResponse(sse([[1, "delta", word(" not", 0.4)], [2, "completed", { job_id: "J" }]])),
      );
    const rec = recording(fetchMock);
    const { result } = renderHook(() => useEventStream("/transcribe/J?token=t", { fetch: rec.fetch, retryMs: 5000 }));
    await waitFor(() => expect(result.current.status).toBe("completed"));
    expect(rec.sent).toEqual([undefined, "0"]);
    expect(result.current.words.map((w) => w.text.trim())).toEqual(["Ask", "not"]);
    expect(result.current.reconnects).toBe(0);
  });

  it("retries a 503 but stops on a 4xx with the server's reason", async () => {
    const fetchMock = vi
      .fn()
      .mockImplementationOnce(async () => new Response("{}", { status: 503, headers: { "content-type": "application/json" } }))
      .mockImplementationOnce(
        async () =>
          new Response(JSON.stringify({ detail: "token expired" }), {
            status: 401,
            headers: { "content-type": "application/json" },
          }),
      );
    const { result } = renderHook(() =>
      useEventStream("/transcribe/J?token=t", { fetch: fetchMock as typeof fetch, retryMs: 5 }),
    );
    await waitFor(() => expect(result.current.status).toBe("failed"));
    expect(result.current.error).toBe("token expired");
    expect(fetchMock).toHaveBeenCalledTimes(2);
  });

  it("reports an error event as a failure with its detail", async () => {
    const fetchMock = vi.fn(async () =>
      streamResponse(sse([[0, "error", { job_id: "J", detail: "the file has no audio track" }]])),
    );
    const { result } = renderHook(() => useEventStream("/transcribe/J?token=t", { fetch: fetchMock as typeof fetch }));
    await waitFor(() => expect(result.current.status).toBe("failed"));
    expect(result.current.error).toBe("the file has no audio track");
  });

  it("stops connecting when unmounted", async () => {
    const fetchMock = vi.fn(async () => streamResponse(sse([[0, "delta", word(" hola", 0)]]), true));
    const { result, unmount } = renderHook(() =>
      useEventStream("/transcribe/J?token=t", { fetch: fetchMock as typeof fetch }),
    );
    await waitFor(() => expect(result.current.words).toHaveLength(1));
    unmount();
    await new Promise((r) => setTimeout(r, 30));
    expect(fetchMock).toHaveBeenCalledTimes(1);
  });
});

describe("streamReducer", () => {
  it("ignores events at or below the last applied seq", () => {
    let state = streamReducer(initialStreamState, { type: "event", seq: 0, event: "delta", data: word("a", 0) });
    state = streamReducer(state, { type: "event", seq: 0, event: "delta", data: word("a", 0) });
    expect(state.words).toHaveLength(1);
  });
});

describe("live sessions: the tentative tail", () => {
  const ev = (seq: number, event: string, data: unknown) => ({ type: "event" as const, seq, event, data: data as Record<string, unknown> });

  it("replaces the partial with each one, trims a word once it is confirmed, clears it at the end", () => {
    let state = streamReducer(initialStreamState, ev(0, "partial", { text: " ask not what", t0: 0, t1: 1.2 }));
    expect(state.partial?.text).toBe(" ask not what");
    state = streamReducer(state, ev(1, "delta", word(" Ask", 0)));
    expect(state.words.map((w) => w.text)).toEqual([" Ask"]);
    expect(state.partial?.text.trim()).toBe("not what");
    state = streamReducer(state, ev(2, "partial", { text: " not what your", t0: 0.4, t1: 1.6 }));
    expect(state.partial?.text).toBe(" not what your");
    state = streamReducer(state, ev(3, "partial", { text: "", t0: 1.6, t1: 1.6 }));
    expect(state.partial).toBeNull();
    state = streamReducer(state, ev(4, "partial", { text: " country", t0: 2, t1: 2.5 }));
    state = streamReducer(state, ev(5, "progress", { stage: "final", progress: 0.5 }));
    expect(state.stage).toBe("final");
    expect(state.partial).toBeNull();
    state = streamReducer(state, ev(6, "completed", { job_id: "L" }));
    expect(state.status).toBe("completed");
  });

  it("takes a partial sent without an id (not part of the replayed sequence)", async () => {
    const text =
      sse([[0, "delta", word(" And", 0)]]) +
      `event: partial\ndata: ${JSON.stringify({ text: " so my", t0: 0.5, t1: 1 })}\n\n` +
      sse([[1, "delta", word(" so", 0.5)]]);
    const fetchMock = vi.fn(async () => streamResponse(text, true));
    const { result, unmount } = renderHook(() => useEventStream("/transcribe/L?token=t", { fetch: fetchMock as typeof fetch }));
    await waitFor(() => expect(result.current.words).toHaveLength(2));
    expect(result.current.partial?.text.trim()).toBe("my");
    expect(result.current.lastSeq).toBe(1);
    unmount();
  });
});

describe("streamReducer batches", () => {
  it("applies a frame's events in one step, skipping replays, in order", () => {
    const delta = (seq: number, text: string) => ({ type: "event" as const, seq, event: "delta", data: { text, t0: seq, t1: seq + 0.5 } });
    let state = streamReducer(initialStreamState, { type: "batch", actions: [delta(0, " Ask"), delta(1, " not")] });
    const before = state;
    state = streamReducer(state, {
      type: "batch",
      actions: [
        delta(1, " not"), // a replay after a reconnect
        delta(2, " what"),
        { type: "partial", data: { text: " your country", t0: 3, t1: 4 } },
        { type: "event", seq: 3, event: "progress", data: { progress: 0.5, processed_s: 3, duration_s: 6 } },
      ],
    });
    expect(state.words.map((w) => w.text)).toEqual([" Ask", " not", " what"]);
    expect(state.wordCount).toBe(3);
    expect(before.wordCount).toBe(2); // the earlier state still holds its two words
    expect(before.words.slice(0, before.wordCount).map((w) => w.text)).toEqual([" Ask", " not"]);
    expect(state.partial?.text).toBe(" your country");
    expect(state.progress).toBe(0.5);
    expect(state.lastSeq).toBe(3);
    expect(streamReducer(state, { type: "batch", actions: [delta(2, " what")] })).toBe(state);
  });
});

describe("streamReducer: the shared word list", () => {
  const delta = (seq: number, text: string, speaker?: string) => ({ type: "event" as const, seq, event: "delta", data: { text, t0: seq, t1: seq + 0.5, speaker } });

  it("appends to one list per stream instead of copying it, and never touches the initial state's", () => {
    const first = streamReducer(initialStreamState, { type: "batch", actions: [delta(0, " Ask"), delta(1, " not")] });
    const second = streamReducer(first, { type: "batch", actions: [delta(2, " what")] });
    expect(second.words).toBe(first.words);
    expect([first.wordCount, second.wordCount]).toEqual([2, 3]);
    expect(initialStreamState.words).toHaveLength(0);
    const reset = streamReducer(second, { type: "reset", connecting: true });
    expect(reset.wordCount).toBe(0);
    expect(streamReducer(reset, { type: "batch", actions: [delta(0, " Hola")] }).words).not.toBe(first.words);
  });

  it("applies the same step twice (StrictMode, a discarded render) without doubling words", () => {
    const first = streamReducer(initialStreamState, { type: "batch", actions: [delta(0, " Ask")] });
    const once = streamReducer(first, { type: "batch", actions: [delta(1, " not"), delta(2, " what")] });
    const twice = streamReducer(first, { type: "batch", actions: [delta(1, " not"), delta(2, " what")] });
    expect(twice.wordCount).toBe(3);
    expect(twice.words.map((w) => w.text)).toEqual([" Ask", " not", " what"]);
    expect(once.words.slice(0, once.wordCount)).toEqual(twice.words.slice(0, twice.wordCount));
    // a step from an older state with other events replaces what an uncommitted one appended
    const other = streamReducer(first, { type: "batch", actions: [{ type: "event", seq: 1, event: "progress", data: { progress: 0.2 } }, delta(2, " why")] });
    expect(other.words.slice(0, other.wordCount).map((w) => w.text)).toEqual([" Ask", " why"]);
  });

  it("says whether any word carried a speaker", () => {
    const plain = streamReducer(initialStreamState, { type: "batch", actions: [delta(0, " Hola")] });
    expect(plain.hasSpeakers).toBe(false);
    expect(streamReducer(plain, { type: "batch", actions: [delta(1, " Ana", "S1")] }).hasSpeakers).toBe(true);
  });
});
