// A small typed wrapper around fetch for the Storefleet API: it adds the
// bearer token, reads problem+json errors into ApiError, and reports a 401 so
// the app can send the user back to the sign-in screen.

import type { Problem } from "./types";

/** Every call goes to the same origin under /api; no other host is ever contacted. */
export const API_BASE = "/api";

export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem | null;

  constructor(status: number, problem: Problem | null, fallback: string) {
    super(problem?.detail ?? problem?.title ?? fallback);
    this.name = "ApiError";
    this.status = status;
    this.problem = problem;
  }

  /** The problem `type` ends with this suffix (types are URIs; only the last segment is stable). */
  hasType(suffix: string): boolean {
    return this.problem?.type.endsWith(suffix) ?? false;
  }
}

/** The request never got an HTTP answer (gateway down, network gone). */
export class NetworkError extends Error {
  constructor(cause: unknown) {
    super("Could not reach the Storefleet API.", { cause });
    this.name = "NetworkError";
  }
}

export interface RequestOptions {
  method?: "GET" | "POST" | "DELETE";
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export interface ApiClient {
  request<T>(path: string, options?: RequestOptions): Promise<T>;
}

function isProblem(value: unknown): value is Problem {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.title === "string" || typeof v.detail === "string";
}

async function readProblem(response: Response): Promise<Problem | null> {
  const text = await response.text().catch(() => "");
  if (text === "") return null;
  try {
    const parsed: unknown = JSON.parse(text);
    if (!isProblem(parsed)) return null;
    return {
      type: typeof parsed.type === "string" ? parsed.type : "about:blank",
      title: typeof parsed.title === "string" ? parsed.title : response.statusText,
      status: typeof parsed.status === "number" ? parsed.status : response.status,
      ...(typeof parsed.detail === "string" ? { detail: parsed.detail } : {}),
    };
  } catch {
    return null;
  }
}

export function createApiClient(token: string, onUnauthorized: () => void): ApiClient {
  return {
    async request<T>(path: string, options: RequestOptions = {}): Promise<T> {
      const headers: Record<string, string> = {
        Accept: "application/json, application/problem+json",
        Authorization: `Bearer ${token}`,
        ...options.headers,
      };
      const init: RequestInit = { method: options.method ?? "GET", headers };
      if (options.body !== undefined) {
        headers["Content-Type"] = "application/json";
        init.body = JSON.stringify(options.body);
      }
      if (options.signal) init.signal = options.signal;

      let response: Response;
      try {
        response = await fetch(`${API_BASE}${path}`, init);
      } catch (error) {
        if (error instanceof DOMException && error.name === "AbortError") throw error;
        throw new NetworkError(error);
      }
      if (!response.ok) {
        const problem = await readProblem(response);
        if (response.status === 401) onUnauthorized();
        throw new ApiError(response.status, problem, `The API answered ${response.status} ${response.statusText}.`);
      }
      if (response.status === 204) return undefined as T;
      return (await response.json()) as T;
    },
  };
}

/** Should TanStack Query retry this failure? Client errors will fail the same way again. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof ApiError) return error.status === 429 || error.status >= 500;
  return error instanceof NetworkError;
}
