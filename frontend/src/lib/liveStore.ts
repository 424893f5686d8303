// A live recording's frames and state in IndexedDB, kept until its transcript is completed, so a
// dropped network, a reload or a closed tab loses no audio: what was not sent yet is sent later
// (or the whole recording is uploaded as a WAV file when its session has ended meanwhile).
import type { LiveOptions } from "../api/live";
import { done, STORES, transact } from "./db";

export interface LiveRecord {
  /** Local id, made before the server's live_id exists (the session may be opened later). */
  key: string;
  liveId: string | null;
  streamUrl: string | null;
  options: LiveOptions;
  createdAt: number;
  /** Frames produced (seq 0 .. frames-1). */
  frames: number;
  /** Frames the server acknowledged: every seq below this one. */
  acked: number;
  /** Samples at 16 kHz produced, for the duration shown. */
  samples: number;
  stopSent: boolean;
  /** The session was refused or ended before it had every frame: upload the recording instead. */
  abandoned: boolean;
  /** The user discarded it, and the server's session is not cancelled yet (offline): retried, never offered. */
  discarded?: boolean;
}

export interface LiveStore {
  save(record: LiveRecord): Promise<void>;
  saveFrame(key: string, seq: number, pcm: ArrayBuffer): Promise<void>;
  frame(key: string, seq: number): Promise<ArrayBuffer | null>;
  /** Every frame of a recording, in seq order. */
  frames(key: string): Promise<ArrayBuffer[]>;
  /** How many frames of a recording are stored. */
  count(key: string): Promise<number>;
  records(): Promise<LiveRecord[]>;
  forget(key: string): Promise<void>;
}

interface StoredFrame {
  key: string;
  seq: number;
  pcm: ArrayBuffer;
}

const framesOf = (key: string) => IDBKeyRange.bound([key, 0], [key, Number.MAX_SAFE_INTEGER]);

export const idbLiveStore: LiveStore = {
  async save(record) {
    await transact(STORES.liveSessions, "readwrite", (tx) => done(tx.objectStore(STORES.liveSessions).put(record)));
  },
  async saveFrame(key, seq, pcm) {
    await transact(STORES.liveFrames, "readwrite", (tx) =>
      done(tx.objectStore(STORES.liveFrames).put({ key, seq, pcm } satisfies StoredFrame)),
    );
  },
  async frame(key, seq) {
    const found = await transact(STORES.liveFrames, "readonly", (tx) =>
      done(tx.objectStore(STORES.liveFrames).get([key, seq]) as IDBRequest<StoredFrame | undefined>),
    );
    return found?.pcm ?? null;
  },
  async frames(key) {
    const all = await transact(STORES.liveFrames, "readonly", (tx) =>
      done(tx.objectStore(STORES.liveFrames).getAll(framesOf(key)) as IDBRequest<StoredFrame[]>),
    );
    return all.sort((a, b) => a.seq - b.seq).map((f) => f.pcm);
  },
  async count(key) {
    return transact(STORES.liveFrames, "readonly", (tx) => done(tx.objectStore(STORES.liveFrames).count(framesOf(key))));
  },
  async records() {
    const all = await transact(STORES.liveSessions, "readonly", (tx) =>
      done(tx.objectStore(STORES.liveSessions).getAll() as IDBRequest<LiveRecord[]>),
    );
    return all.sort((a, b) => a.createdAt - b.createdAt);
  },
  async forget(key) {
    await transact([STORES.liveSessions, STORES.liveFrames], "readwrite", async (tx) => {
      await done(tx.objectStore(STORES.liveFrames).delete(framesOf(key)));
      await done(tx.objectStore(STORES.liveSessions).delete(key));
    });
  },
};

/** The same in memory: for tests, and where IndexedDB is unavailable (frames then live as long as the tab). */
export function memoryLiveStore(): LiveStore & { data: { records: Map<string, LiveRecord>; frames: Map<string, ArrayBuffer> } } {
  const records = new Map<string, LiveRecord>();
  const frames = new Map<string, ArrayBuffer>();
  const id = (key: string, seq: number) => `${key}#${seq}`;
  return {
    data: { records, frames },
    async save(record) {
      records.set(record.key, structuredClone(record));
    },
    async saveFrame(key, seq, pcm) {
      frames.set(id(key, seq), pcm);
    },
    async frame(key, seq) {
      return frames.get(id(key, seq)) ?? null;
    },
    async frames(key) {
      const record = records.get(key);
      const out: ArrayBuffer[] = [];
      for (let seq = 0; seq < (record?.frames ?? 0); seq++) {
        const pcm = frames.get(id(key, seq));
        if (pcm) out.push(pcm);
      }
      return out;
    },
    async count(key) {
      return [...frames.keys()].filter((k) => k.startsWith(`${key}#`)).length;
    },
    async records() {
      return [...records.values()].map((r) => structuredClone(r)).sort((a, b) => a.createdAt - b.createdAt);
    },
    async forget(key) {
      records.delete(key);
      for (const k of [...frames.keys()]) if (k.startsWith(`${key}#`)) frames.delete(k);
    },
  };
}
