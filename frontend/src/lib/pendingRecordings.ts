// Recordings not yet sent, kept in IndexedDB so a failed upload, a closed tab or a crash
// never loses one: each recording is stored when it stops and forgotten once uploaded.
import { done, STORES, transact } from "./db";

export interface PendingRecording {
  id: string;
  blob: Blob;
  filename: string;
  seconds: number;
  createdAt: number;
}

async function run<T>(mode: IDBTransactionMode, action: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  return transact(STORES.pendingRecordings, mode, (tx) => done(action(tx.objectStore(STORES.pendingRecordings))));
}

export async function keepRecording(recording: PendingRecording): Promise<void> {
  await run("readwrite", (store) => store.put(recording));
}

export async function pendingRecordings(): Promise<PendingRecording[]> {
  const all = await run<PendingRecording[]>("readonly", (store) => store.getAll() as IDBRequest<PendingRecording[]>);
  return all.sort((a, b) => a.createdAt - b.createdAt);
}

export async function forgetRecording(id: string): Promise<void> {
  await run("readwrite", (store) => store.delete(id));
}
