import { describe, expect, it, vi } from "vitest";
import { ApiError, createApiClient, isRetryable, NetworkError } from "./client";

function respond(status: number, body: string, type = "application/problem+json") {
  vi.stubGlobal("fetch", vi.fn(() => Promise.resolve(new Response(body, { status, headers: { "content-type": type } }))));
}

describe("createApiClient", () => {
  it("sends the bearer token to a relative /api URL", async () => {
    respond(200, '{"name":"a","max_stores":1,"active_stores":0}', "application/json");
    await createApiClient("tok", () => undefined).request("/me");
    const [url, init] = vi.mocked(fetch).mock.calls[0] ?? [];
    expect(url).toBe("/api/me");
    expect(new Headers(init?.headers).get("authorization")).toBe("Bearer tok");
  });

  it("reads problem+json into ApiError with the detail as message", async () => {
    respond(422, '{"type":"https://x/problems/invalid","title":"Invalid store","status":422,"detail":"name must not be empty"}');
    const error = await createApiClient("t", () => undefined).request("/stores").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).message).toBe("name must not be empty");
    expect((error as ApiError).hasType("invalid")).toBe(true);
  });

  it("calls onUnauthorized on 401", async () => {
    respond(401, '{"title":"Unauthorized","status":401}');
    const onUnauthorized = vi.fn();
    await createApiClient("t", onUnauthorized).request("/me").catch(() => undefined);
    expect(onUnauthorized).toHaveBeenCalledOnce();
  });

  it("keeps a useful message when the body is not a problem", async () => {
    respond(502, "<html>bad gateway</html>", "text/html");
    const error = (await createApiClient("t", () => undefined).request("/me").catch((e: unknown) => e)) as ApiError;
    expect(error.problem).toBeNull();
    expect(error.message).toMatch(/502/);
  });

  it("turns a failed fetch into NetworkError", async () => {
    vi.stubGlobal("fetch", vi.fn(() => Promise.reject(new TypeError("Failed to fetch"))));
    await expect(createApiClient("t", () => undefined).request("/me")).rejects.toBeInstanceOf(NetworkError);
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
