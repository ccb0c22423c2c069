// A small wrapper around fetch for the Storefleet API, typed by the OpenAPI
// document (openapi.d.ts, generated): it adds the bearer token, reads
// problem+json errors into ApiError, and reports a 401 so the app can send
// the user back to the sign-in screen.

import type { paths } from "./openapi";
import type { ProblemAnswer } from "./types";

export class ApiError extends Error {
  readonly status: number;
  readonly problem: ProblemAnswer | null;

  constructor(status: number, problem: ProblemAnswer | null, fallback: string) {
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

type Method = "get" | "post" | "delete";

/** The paths of docs/openapi.json that take `method`. */
export type PathWith<M extends Method> = {
  [P in keyof paths]: paths[P][M] extends { responses: unknown } ? P : never;
}[keyof paths];

/** The operation the document declares for `method` on `path`. */
export type Operation<P extends keyof paths, M extends Method> = NonNullable<paths[P][M]>;

type SuccessStatus = 200 | 201 | 202;

/** The JSON body of the operation's success answer (its 2xx), as the document declares it. */
export type SuccessBody<O> = O extends { responses: infer R }
  ? { [S in Extract<keyof R, SuccessStatus>]: R[S] extends { content: { "application/json": infer T } } ? T : never }[Extract<
      keyof R,
      SuccessStatus
    >]
  : never;

type PathParams<O> = O extends { parameters: { path: infer P } } ? P : never;
type QueryParams<O> = O extends { parameters: { query?: infer Q } } ? Exclude<Q, undefined> : never;
type JsonBody<O> = O extends { requestBody: { content: { "application/json": infer B } } } ? B : never;

/** What a call passes: the path parameters and body exactly when the operation has them. */
export type RequestOptions<O> = {
  headers?: Record<string, string>;
  signal?: AbortSignal;
} & ([PathParams<O>] extends [never] ? { path?: never } : { path: PathParams<O> }) &
  ([QueryParams<O>] extends [never] ? { query?: never } : { query?: QueryParams<O> }) &
  ([JsonBody<O>] extends [never] ? { body?: never } : { body: JsonBody<O> });

type RequestArgs<O> = object extends RequestOptions<O> ? [options?: RequestOptions<O>] : [options: RequestOptions<O>];

export interface ApiClient {
  /**
   * Calls the operation the document declares for `method` on `path` (a path
   * of docs/openapi.json, `{id}` and all) and answers its success body.
   * Every call goes to the same origin; no other host is ever contacted.
   */
  request<M extends Method, P extends PathWith<M>>(
    method: M,
    path: P,
    ...args: RequestArgs<Operation<P, M>>
  ): Promise<SuccessBody<Operation<P, M>>>;
}

/** `/api/stores/{id}` with `{ id: "k7m2q9xd" }` → `/api/stores/k7m2q9xd`, each value URL-encoded. */
export function expandPath(template: string, params: Record<string, string> | undefined, query?: object): string {
  const path = template.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = params?.[name];
    if (value === undefined) throw new Error(`${template}: no value for {${name}}`);
    return encodeURIComponent(value);
  });
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null) search.set(name, String(value));
  }
  const encoded = search.toString();
  return encoded === "" ? path : `${path}?${encoded}`;
}

function isProblem(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.title === "string" || typeof v.detail === "string";
}

async function readProblem(response: Response): Promise<ProblemAnswer | null> {
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

interface UntypedOptions {
  path?: Record<string, string>;
  query?: object;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export function createApiClient(token: string, onUnauthorized: () => void): ApiClient {
  return {
    // Untyped inside: ApiClient's signature is what callers see.
    async request(method: Method, path: string, options: UntypedOptions = {}) {
      const headers: Record<string, string> = {
        Accept: "application/json, application/problem+json",
        Authorization: `Bearer ${token}`,
        ...options.headers,
      };
      const init: RequestInit = { method: method.toUpperCase(), headers };
      if (options.body !== undefined) {
        headers["Content-Type"] = "application/json";
        init.body = JSON.stringify(options.body);
      }
      if (options.signal) init.signal = options.signal;

      let response: Response;
      try {
        response = await fetch(expandPath(path, options.path, options.query), init);
      } catch (error) {
        if (error instanceof DOMException && error.name === "AbortError") throw error;
        throw new NetworkError(error);
      }
      if (!response.ok) {
        const problem = await readProblem(response);
        if (response.status === 401) onUnauthorized();
        throw new ApiError(response.status, problem, `The API answered ${response.status} ${response.statusText}.`);
      }
      // The document declares a JSON body for every success answer; this is where it is trusted.
      return (await response.json()) as never;
    },
  };
}

/** Should TanStack Query retry this failure? Client errors will fail the same way again. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof ApiError) return error.status === 429 || error.status >= 500;
  return error instanceof NetworkError;
}
