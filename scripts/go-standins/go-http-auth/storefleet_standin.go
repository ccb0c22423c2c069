package auth

// Added to a copy of github.com/abbot/go-http-auth v0.4.0: the two things
// Traefik uses from its fork github.com/containous/go-http-auth (which the
// Go module proxy refuses), written here from their use in Traefik.

import "net/http"

// CheckSecret reports whether password matches secret, a hash in any of the
// formats BasicAuth accepts (MD5 crypt, {SHA}, bcrypt).
func CheckSecret(password, secret string) bool {
	compare := compareFuncs[0].compare
	for _, cmp := range compareFuncs[1:] {
		if len(secret) >= len(cmp.prefix) && secret[:len(cmp.prefix)] == cmp.prefix {
			compare = cmp.compare
			break
		}
	}
	return compare([]byte(secret), []byte(password)) == nil
}

// RequireAuthStale answers like RequireAuth with a fresh nonce (the client's
// nonce was stale).
func (a *DigestAuth) RequireAuthStale(w http.ResponseWriter, r *http.Request) {
	a.RequireAuth(w, r)
}
