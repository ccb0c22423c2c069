import { describe, expect, it, vi } from "vitest";
import { ApiError, createApiClient, expandPath, isRetryable, NetworkError } from "./client";

function respond(status: number, body: string, type = "application/problem+json") {
  vi.stubGlobal("fetch", vi.fn(() => Promise.resolve(new Response(body, { status, headers: { "content-type": type } }))));
}

describe("createApiClient", () => {
  it("sends the bearer token to a relative /api URL", async () => {
    respond(200, '{"name":"a","max_stores":1,"active_stores":0,"is_admin":false}', "application/json");
    await createApiClient("tok", () => undefined).request("get", "/api/me");
    const [url, init] = vi.mocked(fetch).mock.calls[0] ?? [];
    expect(url).toBe("/api/me");
    expect(new Headers(init?.headers).get("authorization")).toBe("Bearer tok");
  });

  it("reads problem+json into ApiError with the detail as message", async () => {
    respond(422, '{"type":"https://x/problems/invalid","title":"Invalid store","status":422,"detail":"name must not be empty"}');
    const error = await createApiClient("t", () => undefined).request("get", "/api/stores").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).message).toBe("name must not be empty");
    expect((error as ApiError).hasType("invalid")).toBe(true);
  });

  it("calls onUnauthorized on 401", async () => {
    respond(401, '{"title":"Unauthorized","status":401}');
    const onUnauthorized = vi.fn();
    await createApiClient("t", onUnauthorized).request("get", "/api/me").catch(() => undefined);
    expect(onUnauthorized).toHaveBeenCalledOnce();
  });

  it("keeps a useful message when the body is not a problem", async () => {
    respond(502, "<html>bad gateway</html>", "text/html");
    const error = (await createApiClient("t", () => undefined).request("get", "/api/me").catch((e: unknown) => e)) as ApiError;
    expect(error.problem).toBeNull();
    expect(error.message).toMatch(/502/);
  });

  it("turns a failed fetch into NetworkError", async () => {
    vi.stubGlobal("fetch", vi.fn(() => Promise.reject(new TypeError("Failed to fetch"))));
    await expect(createApiClient("t", () => undefined).request("get", "/api/me")).rejects.toBeInstanceOf(NetworkError);
  });
});

describe("the calls' types come from docs/openapi.json", () => {
  // tsc (make lint) fails if any line marked @ts-expect-error compiles.
  it("refuses what the document does not declare", () => {
    const api = createApiClient("t", () => undefined);
    const wrongCalls = () => [
      // @ts-expect-error a path the document does not have
      api.request("get", "/api/nope"),
      // @ts-expect-error a method the path does not take
      api.request("delete", "/api/me"),
      // @ts-expect-error the path parameter {id} is not given
      api.request("get", "/api/stores/{id}"),
      // @ts-expect-error POST /api/stores needs its body
      api.request("post", "/api/stores"),
      // @ts-expect-error a store type the document does not know
      api.request("post", "/api/stores", { body: { name: "x", type: "shopify" } }),
      api.request("get", "/api/stores/{id}/events", { path: { id: "k7m2q9xd" } }).then((log) => {
        // @ts-expect-error the activity log's entries have `at`, not `created_at`
        const { created_at } = log.events[0] ?? {};
        return created_at as unknown;
      }),
    ];
    expect(wrongCalls).toBeTypeOf("function");
  });
});

describe("expandPath", () => {
  it("fills the document's path parameters URL-encoded and adds the query", () => {
    expect(expandPath("/api/stores/{id}/events", { id: "k7m2q9xd" })).toBe("/api/stores/k7m2q9xd/events");
    expect(expandPath("/api/stores/{id}", { id: "a/b?c" })).toBe("/api/stores/a%2Fb%3Fc");
    expect(expandPath("/api/stores", undefined, { cursor: "x y", limit: undefined })).toBe("/api/stores?cursor=x+y");
    expect(expandPath("/api/stores", undefined, {})).toBe("/api/stores");
  });

  it("refuses a path parameter it was not given", () => {
    expect(() => expandPath("/api/stores/{id}", {})).toThrow(/no value for \{id\}/);
  });
});

describe("isRetryable", () => {
  it("retries server errors, 429 and network errors, not client errors", () => {
    expect(isRetryable(new ApiError(503, null, ""))).toBe(true);
    expect(isRetryable(new ApiError(429, null, ""))).toBe(true);
    expect(isRetryable(new NetworkError(null))).toBe(true);
    expect(isRetryable(new ApiError(404, null, ""))).toBe(false);
    expect(isRetryable(new ApiError(422, null, ""))).toBe(false);
  });
});
