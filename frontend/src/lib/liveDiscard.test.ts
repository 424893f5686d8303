import { describe, expect, it, vi } from "vitest";
import { discardRecording, LiveSender } from "./liveSession";
import { memoryLiveStore, type LiveRecord } from "./liveStore";

/**
 * A fake API that keeps sessions by Idempotency-Key, as the server does: a repeated POST /live
 * with the same key gets the same session; POST /live/{id}/cancel discards one.
 */
function fakeServer() {
  const sessions = new Map<string, string>(); // idempotency key -> live_id
  const cancelled: string[] = [];
  const keysSent: Array<string | null> = [];
  const server = {
    sessions,
    cancelled,
    keysSent,
    offline: false,
    /** POST /live is processed, but its answer is lost this many times. */
    loseOpenAnswers: 0,
    /** POST /live answers 409 idempotency_key_in_use this many times. */
    busyOpens: 0,
    fetch: vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = new URL(String(input));
      if (server.offline) throw new TypeError("Failed to fetch");
      if (url.pathname === "/live") {
        const key = new Headers(init?.headers).get("idempotency-key");
        keysSent.push(key);
        if (server.busyOpens-- > 0) {
          return Response.json({ detail: "still starting", code: "idempotency_key_in_use" }, { status: 409 });
        }
        const liveId = (key && sessions.get(key)) ?? `L${sessions.size + 1}`;
        if (key) sessions.set(key, liveId);
        if (server.loseOpenAnswers-- > 0) throw new TypeError("Failed to fetch");
        return Response.json(
          { live_id: liveId, stream_url: `/transcribe/${liveId}?token=s`, max_seconds: 7200, frame_max_bytes: 64_000, idle_timeout_seconds: 30 },
          { status: 201 },
        );
      }
      const cancel = url.pathname.match(/^\/live\/(\w+)\/cancel$/);
      if (cancel) {
        cancelled.push(cancel[1]);
        return Response.json({ live_id: cancel[1], status: "cancelled" });
      }
      if (url.pathname.endsWith("/audio")) return new Response(null, { status: 204 });
      if (url.pathname.endsWith("/stop")) return Response.json({}, { status: 202 });
      return new Response(null, { status: 404 });
    }),
  };
  return server;
}

const frame = () => new Int16Array(8000).buffer;

function setup() {
  const server = fakeServer();
  const store = memoryLiveStore();
  const sender = LiveSender.start("K", { language: "es" }, { store, fetch: server.fetch, retryMs: 1, maxRetryMs: 8 });
  return { server, store, sender };
}

const record = (over: Partial<LiveRecord> = {}): LiveRecord => ({
  key: "R",
  liveId: "L9",
  streamUrl: null,
  options: { language: "es" },
  createdAt: 0,
  frames: 1,
  acked: 1,
  samples: 8000,
  stopSent: false,
  abandoned: false,
  ...over,
});

describe("POST /live with an Idempotency-Key", () => {
  it("sends the recording's key and reuses it when the answer was lost: one session", async () => {
    const server = fakeServer();
    server.loseOpenAnswers = 2;
    const sender = LiveSender.start("K", { language: "es" }, { store: memoryLiveStore(), fetch: server.fetch, retryMs: 1, maxRetryMs: 8 });
    sender.push(frame());
    expect(await sender.finish()).toBe("stopped");
    expect(server.keysSent).toEqual(["K", "K", "K"]);
    expect(server.sessions.size).toBe(1);
    expect(sender.status.liveId).toBe("L1");
  });

  it("waits and retries while the first try is still starting the session", async () => {
    const server = fakeServer();
    server.busyOpens = 2;
    const sender = LiveSender.start("K", {}, { store: memoryLiveStore(), fetch: server.fetch, retryMs: 1, maxRetryMs: 8 });
    sender.push(frame());
    expect(await sender.finish()).toBe("stopped"); // not "upload": a 409 here is no ended session
    expect(server.keysSent).toEqual(["K", "K", "K"]);
  });
});

describe("Descartar", () => {
  it("cancels the session on the server and forgets the frames here", async () => {
    const { server, store, sender } = setup();
    sender.push(frame());
    await vi.waitFor(() => expect(sender.status.acked).toBe(1));
    expect(await sender.discard()).toBe("discarded");
    expect(server.cancelled).toEqual(["L1"]);
    expect(await store.records()).toEqual([]);
    expect(await store.count("K")).toBe(0);
    expect(sender.status.state).toBe("disposed");
  });

  it("cancels the session a POST /live in flight opens, though it answers after the discard", async () => {
    const { server, store, sender } = setup();
    sender.push(frame()); // POST /live is on its way
    expect(await sender.discard()).toBe("discarded");
    expect(server.cancelled).toEqual(["L1"]);
    expect(await store.records()).toEqual([]);
  });

  it("offline: keeps the recording marked as discarded, and tells the server later", async () => {
    const server = fakeServer();
    const store = memoryLiveStore();
    await store.save(record());
    server.offline = true;
    expect(await discardRecording(record(), store, server.fetch)).toBe("pending");
    const [kept] = await store.records();
    expect(kept.discarded).toBe(true);
    server.offline = false;
    expect(await discardRecording(kept, store, server.fetch)).toBe("discarded");
    expect(server.cancelled).toEqual(["L9"]);
    expect(await store.records()).toEqual([]);
  });

  it("a recording whose session id never arrived asks for it with its key, then cancels it", async () => {
    const server = fakeServer();
    server.sessions.set("R", "L5"); // the server started it; the answer was lost
    const store = memoryLiveStore();
    expect(await discardRecording(record({ liveId: null }), store, server.fetch)).toBe("discarded");
    expect(server.keysSent).toEqual(["R"]);
    expect(server.cancelled).toEqual(["L5"]);
  });

  it("a session already gone on the server (404) is forgotten here", async () => {
    const store = memoryLiveStore();
    await store.save(record());
    const gone = vi.fn(async () => Response.json({ detail: "live session not found", code: "not_found" }, { status: 404 }));
    expect(await discardRecording(record(), store, gone)).toBe("discarded");
    expect(await store.records()).toEqual([]);
  });
});
