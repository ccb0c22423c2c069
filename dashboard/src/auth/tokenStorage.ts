// Where the API token lives in the browser.
//
// sessionStorage, not localStorage: the token is a long-lived bearer
// credential, and sessionStorage drops it when the tab closes and never shares
// it with other tabs, so a forgotten laptop or a shared browser does not stay
// signed in. Any script on the page could read either storage, which is why
// the dashboard loads nothing but its own bundle and calls nothing but /api.
// The cost is signing in once per tab; "Sign out" removes it at once.

const KEY = "storefleet.api-token";

export function loadToken(): string | null {
  try {
    return window.sessionStorage.getItem(KEY);
  } catch {
    return null; // storage disabled: the user signs in every page load
  }
}

export function saveToken(token: string): void {
  try {
    window.sessionStorage.setItem(KEY, token);
  } catch {
    // storage disabled: the token lives in memory only
  }
}

export function clearToken(): void {
  try {
    window.sessionStorage.removeItem(KEY);
  } catch {
    // nothing stored
  }
}
