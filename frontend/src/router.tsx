import { useCallback, useEffect, useState } from "react";

// A tiny History API router: /, /grabar, /biblioteca, /biblioteca/<id>.
export function usePath(): [string, (to: string) => void] {
  const [path, setPath] = useState(() => window.location.pathname);
  useEffect(() => {
    const onPop = () => setPath(window.location.pathname);
    window.addEventListener("popstate", onPop);
    return () => window.removeEventListener("popstate", onPop);
  }, []);
  const navigate = useCallback((to: string) => {
    if (to !== window.location.pathname) window.history.pushState(null, "", to);
    setPath(to);
    window.scrollTo?.(0, 0);
  }, []);
  return [path, navigate];
}
