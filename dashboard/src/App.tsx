import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { Navigate, Outlet, useLocation, type RouteObject } from "react-router";
import { isRetryable } from "./api/client";
import { SessionProvider, useSession } from "./auth/session";
import { Layout } from "./components/Layout";
import { NotFoundPage } from "./pages/NotFoundPage";
import { SignInPage } from "./pages/SignInPage";
import { StoreDetailPage } from "./pages/StoreDetailPage";
import { StoresPage } from "./pages/StoresPage";

export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        // 4xx answers will not change by asking again; 5xx, 429 and network errors might.
        retry: (failures, error) => isRetryable(error) && failures < 2,
        refetchOnWindowFocus: true,
      },
      mutations: { retry: false },
    },
  });
}

export function AppProviders({ client, children }: { client: QueryClient; children: ReactNode }) {
  return (
    <QueryClientProvider client={client}>
      <SessionProvider>{children}</SessionProvider>
    </QueryClientProvider>
  );
}

function RequireSignIn() {
  const { token } = useSession();
  const location = useLocation();
  if (token === null) return <Navigate to="/sign-in" replace state={{ from: location.pathname }} />;
  return <Outlet />;
}

export const routes: RouteObject[] = [
  { path: "/sign-in", element: <SignInPage /> },
  {
    element: <RequireSignIn />,
    children: [
      {
        element: <Layout />,
        children: [
          { index: true, element: <StoresPage /> },
          { path: "stores/:id", element: <StoreDetailPage /> },
          { path: "*", element: <NotFoundPage /> },
        ],
      },
    ],
  },
];
