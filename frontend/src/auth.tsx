import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { api, ApiError, configureAuth, unwrap } from "./api/client";
import type { MessageKey } from "./i18n";

interface Session {
  token: string;
  email: string;
  expiresAt: number; // epoch ms
}

interface Auth {
  session: Session | null;
  /** Why the user was signed out, if not by choice (e.g. the token expired), or what was done
   * (e.g. every session ended). */
  notice: MessageKey | null;
  signIn: (email: string, password: string) => Promise<void>;
  signUp: (email: string, password: string) => Promise<void>;
  /** Forget the session here; `notice` is shown on the sign-in screen. */
  signOut: (notice?: MessageKey) => void;
}

/** What the sign-in screen says when the API refused the session with `code`. */
export function signedOutNotice(code: string | null): MessageKey {
  if (code === "session_revoked") return "auth.revoked";
  if (code === "account_gone") return "auth.gone";
  return "auth.expired";
}

const STORAGE_KEY = "grabadora.session";

export function loadSession(now = Date.now()): { session: Session | null; expired: boolean } {
  try {
    const raw = localStorage.getItem(STORAGE_KEY);
    if (!raw) return { session: null, expired: false };
    const session = JSON.parse(raw) as Session;
    if (!session.token || !(session.expiresAt > now)) {
      localStorage.removeItem(STORAGE_KEY);
      return { session: null, expired: true };
    }
    return { session, expired: false };
  } catch {
    localStorage.removeItem(STORAGE_KEY);
    return { session: null, expired: false };
  }
}

const AuthContext = createContext<Auth | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [initial] = useState(() => loadSession());
  const [session, setSessionState] = useState<Session | null>(initial.session);
  const [notice, setNotice] = useState<MessageKey | null>(initial.expired ? "auth.expired" : null);
  // The API client reads the token through this ref at call time.
  const current = useRef<Session | null>(initial.session);

  const queryClient = useQueryClient();
  const setSession = useCallback((next: Session | null) => {
    current.current = next;
    if (!next) queryClient.clear(); // nothing of one account's data stays for the next
    setSessionState(next);
  }, [queryClient]);

  const expire = useCallback((reason: MessageKey = "auth.expired") => {
    localStorage.removeItem(STORAGE_KEY);
    setSession(null);
    setNotice(reason);
  }, [setSession]);

  // A 401 signs out with the server's reason; an answer to a request of a session already gone
  // (signed out, or another account signed in since) changes nothing.
  const refused = useCallback((code: string | null, token: string | null) => {
    const now = current.current;
    if (!now || (token !== null && token !== now.token)) return;
    expire(signedOutNotice(code));
  }, [expire]);

  // Wired during this provider's first render, not in an effect: a screen opened directly
  // (reload, bookmark) calls the API from its own effect, and children's effects run before
  // their parent's, so an effect here would let that first request go out without the token.
  useState(() => configureAuth({ token: () => current.current?.token ?? null, onUnauthorized: (code, token) => refused(code, token) }));

  // Sign out when the token runs out, even if the user does nothing.
  useEffect(() => {
    if (!session) return;
    const ms = session.expiresAt - Date.now();
    const timer = setTimeout(() => expire(), Math.max(0, Math.min(ms, 2 ** 31 - 1)));
    return () => clearTimeout(timer);
  }, [session, expire]);

  const signIn = useCallback(async (email: string, password: string) => {
    const data = await unwrap<{ access_token: string; expires_in: number }>(
      api.POST("/auth/token", {
        body: { username: email, password, scope: "" },
        bodySerializer: (body) => new URLSearchParams({ username: body.username, password: body.password }).toString(),
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
      }),
    );
    const next = { token: data.access_token, email, expiresAt: Date.now() + data.expires_in * 1000 };
    localStorage.setItem(STORAGE_KEY, JSON.stringify(next));
    setNotice(null);
    setSession(next);
  }, [setSession]);

  const signUp = useCallback(async (email: string, password: string) => {
    await unwrap(api.POST("/auth/signup", { body: { email, password } }));
  }, []);

  const signOut = useCallback((next?: MessageKey) => {
    localStorage.removeItem(STORAGE_KEY);
    setNotice(next ?? null);
    setSession(null);
  }, [setSession]);

  const value = useMemo(() => ({ session, notice, signIn, signUp, signOut }), [session, notice, signIn, signUp, signOut]);
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): Auth {
  const auth = useContext(AuthContext);
  if (!auth) throw new Error("useAuth outside AuthProvider");
  return auth;
}

export function isApiError(e: unknown, status: number): boolean {
  return e instanceof ApiError && e.status === status;
}
