import { describe, expect, it, vi } from "vitest";
import { LiveSender } from "./liveSession";
import { memoryLiveStore, type LiveRecord } from "./liveStore";

interface Call {
  path: string;
  seq: number | null;
  body: ArrayBuffer | string | null;
}

/** A fake API: POST /live, /live/{id}/audio?seq=N and /live/{id}/stop, with switches for failures. */
function fakeServer() {
  const calls: Call[] = [];
  const received = new Map<number, number[]>(); // seq -> first byte values, first accepted copy
  const server = {
    calls,
    received,
    offline: false,
    openFailures: 0,
    audioStatus: (_seq: number): number => 204,
    stopStatus: 202,
    fetch: vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = new URL(String(input));
      const seqParam = url.searchParams.get("seq");
      calls.push({ path: url.pathname, seq: seqParam === null ? null : Number(seqParam), body: (init?.body as ArrayBuffer | string) ?? null });
      if (server.offline) throw new TypeError("Failed to fetch");
      if (url.pathname === "/live") {
        if (server.openFailures-- > 0) throw new TypeError("Failed to fetch");
        return Response.json(
          { live_id: "L1", stream_url: "/transcribe/L1?token=s", max_seconds: 7200, frame_max_bytes: 64_000, idle_timeout_seconds: 30 },
          { status: 201 },
        );
      }
      if (url.pathname === "/live/L1/audio") {
        expect(new Headers(init?.headers).get("content-type")).toBe("audio/pcm;rate=16000");
        const seq = Number(seqParam);
        const status = server.audioStatus(seq);
        if (status === 204 && !received.has(seq)) received.set(seq, Array.from(new Int16Array(init!.body as ArrayBuffer)));
        return new Response(status === 204 ? null : JSON.stringify({ detail: `status ${status}` }), { status });
      }
      if (url.pathname === "/live/L1/stop") return new Response(JSON.stringify({}), { status: server.stopStatus });
      return new Response(null, { status: 404 });
    }),
    audioSeqs: () => calls.filter((c) => c.path.endsWith("/audio")).map((c) => c.seq as number),
    stops: () => calls.filter((c) => c.path.endsWith("/stop")).map((c) => JSON.parse(String(c.body))),
  };
  return server;
}

/** A frame whose samples all hold `n`, so what arrived can be told apart. */
const frame = (n: number, samples = 8000) => new Int16Array(samples).fill(n).buffer;

function setup(retryMs = 1) {
  const server = fakeServer();
  const store = memoryLiveStore();
  const events = new EventTarget();
  const sender = LiveSender.start("K", { language: "en", profile: "fast" }, { store, fetch: server.fetch, retryMs, maxRetryMs: retryMs * 8, events });
  return { server, store, events, sender };
}

describe("LiveSender", () => {
  it("numbers frames from 0, sends them in order and stops with the frame count", async () => {
    const { server, store, sender } = setup();
    const seqs = [0, 1, 2, 3, 4].map((n) => sender.push(frame(n)));
    expect(seqs).toEqual([0, 1, 2, 3, 4]);
    expect(await sender.finish()).toBe("stopped");
    expect(server.audioSeqs()).toEqual([0, 1, 2, 3, 4]);
    expect([...server.received.entries()].map(([seq, pcm]) => [seq, pcm[0]])).toEqual([0, 1, 2, 3, 4].map((n) => [n, n]));
    expect(server.stops()).toEqual([{ frames: 5 }]);
    expect(JSON.parse(String(server.calls[0].body))).toEqual({ language: "en", profile: "fast" });
    await sender.flushed();
    const [record] = await store.records();
    expect(record).toMatchObject({ liveId: "L1", frames: 5, acked: 5, stopSent: true, samples: 40_000 });
    expect(await store.count("K")).toBe(5); // kept until the transcript is completed
  });

  it("keeps frames through a network drop and resends them in order, losing none", async () => {
    const { server, sender } = setup();
    sender.push(frame(0));
    await vi.waitFor(() => expect(server.received.has(0)).toBe(true));
    server.offline = true;
    for (let n = 1; n <= 6; n++) sender.push(frame(n));
    await vi.waitFor(() => expect(server.calls.filter((c) => c.seq === 1).length).toBeGreaterThan(2));
    expect(sender.status.state).toBe("waiting");
    expect(sender.status.acked).toBe(1);
    server.offline = false;
    for (let n = 7; n <= 9; n++) sender.push(frame(n));
    expect(await sender.finish()).toBe("stopped");
    expect([...server.received.keys()]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (const [seq, pcm] of server.received) expect(pcm.every((v) => v === seq)).toBe(true);
    const attempts = server.audioSeqs();
    expect(attempts).toEqual([...attempts].sort((a, b) => a - b)); // never out of order
    expect(server.stops()).toEqual([{ frames: 10 }]);
  });

  it("retries 5xx and 429 answers", async () => {
    const { server, sender } = setup();
    let failures = 3;
    server.audioStatus = (seq) => (seq === 1 && failures-- > 0 ? (failures === 1 ? 429 : 503) : 204);
    [0, 1, 2].forEach((n) => sender.push(frame(n)));
    expect(await sender.finish()).toBe("stopped");
    expect(server.audioSeqs()).toEqual([0, 1, 1, 1, 1, 2]);
    expect([...server.received.keys()]).toEqual([0, 1, 2]);
  });

  it("tries again at once when the browser is back online", async () => {
    const { server, events, sender } = setup(60_000);
    server.offline = true;
    sender.push(frame(0));
    await vi.waitFor(() => expect(sender.status.state).toBe("waiting"));
    server.offline = false;
    events.dispatchEvent(new Event("online"));
    await vi.waitFor(() => expect(server.received.has(0)).toBe(true));
  });

  it("opens the session later when the network was down at the start", async () => {
    const server = fakeServer();
    server.openFailures = 2;
    const store = memoryLiveStore();
    const sender = LiveSender.start("K", {}, { store, fetch: server.fetch, retryMs: 1 });
    [0, 1, 2].forEach((n) => sender.push(frame(n)));
    expect(await sender.finish()).toBe("stopped");
    expect(server.calls.filter((c) => c.path === "/live")).toHaveLength(3);
    expect([...server.received.keys()]).toEqual([0, 1, 2]);
  });

  it("stops sending on 409 and asks for the recording to be uploaded", async () => {
    const { server, store, sender } = setup();
    server.audioStatus = (seq) => (seq >= 2 ? 409 : 204);
    for (let n = 0; n < 5; n++) sender.push(frame(n));
    expect(await sender.finish()).toBe("upload");
    expect(server.audioSeqs()).toEqual([0, 1, 2]);
    expect(server.stops()).toEqual([]);
    expect(sender.status.state).toBe("ended");
    await sender.flushed();
    expect((await store.records())[0]).toMatchObject({ abandoned: true, frames: 5, acked: 2 });
    expect(await store.frames("K")).toHaveLength(5); // nothing lost: all of it can go up as a file
  });

  it("treats 404 like 409", async () => {
    const { server, sender } = setup();
    server.audioStatus = () => 404;
    sender.push(frame(0));
    expect(await sender.finish()).toBe("upload");
  });

  it("accepts a 409 on stop when the server already has every frame", async () => {
    const { server, sender } = setup();
    server.stopStatus = 409; // e.g. the idle timeout stopped it after the last frame
    [0, 1].forEach((n) => sender.push(frame(n)));
    expect(await sender.finish()).toBe("stopped");
  });

  it("cuts frames larger than the server takes", async () => {
    const { server, sender } = setup();
    sender.push(frame(0));
    await vi.waitFor(() => expect(sender.status.session).not.toBeNull());
    sender.push(frame(1, 40_000)); // 80,000 bytes > 64,000
    expect(await sender.finish()).toBe("stopped");
    expect([...server.received.values()].map((p) => p.length)).toEqual([8000, 32_000, 8000]);
    expect(server.stops()).toEqual([{ frames: 3 }]);
  });

  it("resumes a recording left unfinished: sends only what was not acknowledged", async () => {
    const server = fakeServer();
    const store = memoryLiveStore();
    for (let n = 0; n < 4; n++) await store.saveFrame("K", n, frame(n));
    const record: LiveRecord = {
      key: "K",
      liveId: "L1",
      streamUrl: "/transcribe/L1?token=s",
      options: {},
      createdAt: 1,
      frames: 3, // the last frame was stored, the record not updated yet
      acked: 2,
      samples: 24_000,
      stopSent: false,
      abandoned: false,
    };
    await store.save(record);
    const sender = await LiveSender.resume(record, { store, fetch: server.fetch, retryMs: 1 });
    expect(await sender.finish()).toBe("stopped");
    expect(server.audioSeqs()).toEqual([2, 3]);
    expect(server.received.get(3)?.[0]).toBe(3);
    expect(server.stops()).toEqual([{ frames: 4 }]);
  });

  it("sends nothing after dispose", async () => {
    const { server, sender } = setup(60_000);
    server.offline = true;
    sender.push(frame(0));
    await vi.waitFor(() => expect(sender.status.state).toBe("waiting"));
    const before = server.calls.length;
    sender.dispose();
    server.offline = false;
    await new Promise((r) => setTimeout(r, 20));
    expect(server.calls.length).toBe(before);
  });
});
