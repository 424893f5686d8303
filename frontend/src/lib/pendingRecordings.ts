// Recordings not yet sent, kept in IndexedDB so a failed upload, a closed tab or a crash
// never loses one: each recording is stored when it stops and forgotten once uploaded.

export interface PendingRecording {
  id: string;
  blob: Blob;
  filename: string;
  seconds: number;
  createdAt: number;
}

const DB_NAME = "grabadora";
const STORE = "pending-recordings";

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    if (typeof indexedDB === "undefined") {
      reject(new Error("IndexedDB is not available"));
      return;
    }
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "id" });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function run<T>(mode: IDBTransactionMode, action: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const request = action(db.transaction(STORE, mode).objectStore(STORE));
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  } finally {
    db.close();
  }
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
