import { useCallback, useEffect, useState } from "react";

// A tiny History API router: /, /grabar, /biblioteca, /biblioteca/<id>, /uso, /cuenta.
// The path is the pathname only; a screen may keep its own state in the query string.
export function usePath(): [string, (to: string) => void] {
  const [path, setPath] = useState(() => window.location.pathname);
  useEffect(() => {
    const onPop = () => setPath(window.location.pathname);
    window.addEventListener("popstate", onPop);
    return () => window.removeEventListener("popstate", onPop);
  }, []);
  const navigate = useCallback((to: string) => {
    if (to !== window.location.pathname + window.location.search) window.history.pushState(null, "", to);
    setPath(to.split("?")[0]);
    window.scrollTo?.(0, 0);
  }, []);
  return [path, navigate];
}

/** Replace the query string of the current entry (no new history entry), e.g. the library's search. */
export function replaceQuery(params: Record<string, string>): void {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== "")).toString();
  const url = window.location.pathname + (query ? `?${query}` : "");
  if (url !== window.location.pathname + window.location.search) window.history.replaceState(window.history.state, "", url);
}

export function queryParam(name: string): string {
  return new URLSearchParams(window.location.search).get(name) ?? "";
}
