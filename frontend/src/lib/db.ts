// The app's IndexedDB database: recordings not yet sent (pendingRecordings.ts) and the frames
// of live sessions (liveStore.ts). One module opens it so every store is created by one upgrade.

const DB_NAME = "grabadora";
const VERSION = 2;

export const STORES = {
  pendingRecordings: "pending-recordings",
  liveSessions: "live-sessions",
  liveFrames: "live-frames",
} as const;

export function openDb(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    if (typeof indexedDB === "undefined") {
      reject(new Error("IndexedDB is not available"));
      return;
    }
    const request = indexedDB.open(DB_NAME, VERSION);
    request.onupgradeneeded = () => {
      const db = request.result;
      if (!db.objectStoreNames.contains(STORES.pendingRecordings)) db.createObjectStore(STORES.pendingRecordings, { keyPath: "id" });
      if (!db.objectStoreNames.contains(STORES.liveSessions)) db.createObjectStore(STORES.liveSessions, { keyPath: "key" });
      if (!db.objectStoreNames.contains(STORES.liveFrames)) db.createObjectStore(STORES.liveFrames, { keyPath: ["key", "seq"] });
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
    request.onblocked = () => reject(new Error("IndexedDB upgrade blocked by another tab"));
  });
}

export function done<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/** Run `action` in one transaction on `stores`; resolves once the transaction has committed. */
export async function transact<T>(
  stores: string | string[],
  mode: IDBTransactionMode,
  action: (tx: IDBTransaction) => Promise<T> | T,
): Promise<T> {
  const db = await openDb();
  try {
    const tx = db.transaction(stores, mode);
    const committed = new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error ?? new Error("transaction aborted"));
    });
    committed.catch(() => undefined); // awaited below; this only keeps an early abort from going unhandled
    const result = await action(tx);
    await committed;
    return result;
  } finally {
    db.close();
  }
}
