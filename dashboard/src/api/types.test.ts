import { describe, expect, it } from "vitest";
import { makeStore } from "../test/fakeApi";
import { asStore, STORE_STATUSES } from "./types";

describe("asStore", () => {
  it("keeps a store whose status the dashboard knows", () => {
    for (const status of STORE_STATUSES) {
      expect(asStore(makeStore({ id: "k7m2q9xd", name: "Demo" }, status)).status).toBe(status);
    }
  });

  it("refuses a status it cannot show, saying which and what to do", () => {
    const view = { ...makeStore({ id: "k7m2q9xd", name: "Demo" }), status: "archived" };
    expect(() => asStore(view)).toThrow('The API reports store k7m2q9xd as "archived", a status this dashboard does not know; update the dashboard.');
  });
});
