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
  /** Why the user was signed out, if not by choice (e.g. the token expired). */
  notice: MessageKey | null;
  signIn: (email: string, password: string) => Promise<void>;
  signUp: (email: string, password: string) => Promise<void>;
  signOut: () => void;
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

  const expire = useCallback(() => {
    localStorage.removeItem(STORAGE_KEY);
    setSession(null);
    setNotice("auth.expired");
  }, [setSession]);

  // Wired during this provider's first render, not in an effect: a screen opened directly
  // (reload, bookmark) calls the API from its own effect, and children's effects run before
  // their parent's, so an effect here would let that first request go out without the token.
  useState(() => configureAuth({ token: () => current.current?.token ?? null, onUnauthorized: () => expire() }));

  // Sign out when the token runs out, even if the user does nothing.
  useEffect(() => {
    if (!session) return;
    const ms = session.expiresAt - Date.now();
    const timer = setTimeout(expire, Math.max(0, Math.min(ms, 2 ** 31 - 1)));
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

  const signOut = useCallback(() => {
    localStorage.removeItem(STORAGE_KEY);
    setNotice(null);
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
