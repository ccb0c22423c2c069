import { useQueryClient } from "@tanstack/react-query";
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from "react";
import { createApiClient, type ApiClient } from "../api/client";
import { clearToken, loadToken, saveToken } from "./tokenStorage";

interface Session {
  token: string | null;
  api: ApiClient | null;
  /** Why the user was signed out, shown on the sign-in screen. */
  notice: string | null;
  signIn: (token: string) => void;
  signOut: (notice?: string) => void;
}

const SessionContext = createContext<Session | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [token, setToken] = useState<string | null>(() => loadToken());
  const [notice, setNotice] = useState<string | null>(null);

  const signOut = useCallback(
    (why?: string) => {
      clearToken();
      setToken(null);
      setNotice(why ?? null);
      // Another user's stores must never show from the cache.
      queryClient.clear();
    },
    [queryClient],
  );

  const signIn = useCallback((next: string) => {
    saveToken(next);
    setNotice(null);
    setToken(next);
  }, []);

  const api = useMemo(
    () =>
      token === null
        ? null
        : createApiClient(token, () => {
            signOut("The API no longer accepts your token (it was revoked or mistyped). Sign in again.");
          }),
    [token, signOut],
  );

  const value = useMemo(() => ({ token, api, notice, signIn, signOut }), [token, api, notice, signIn, signOut]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (session === null) throw new Error("useSession outside SessionProvider");
  return session;
}

/** The API client of the signed-in user; only used below the sign-in gate. */
export function useApi(): ApiClient {
  const { api } = useSession();
  if (api === null) throw new Error("useApi without a signed-in user");
  return api;
}
