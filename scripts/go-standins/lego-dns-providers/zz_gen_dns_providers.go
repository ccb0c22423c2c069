// Storefleet stand-in for lego's generated DNS provider registry: the
// provider SDKs are modules the Go module proxy does not serve, and the
// test node never solves ACME DNS challenges.
package dns

import (
	"fmt"

	"github.com/go-acme/lego/v5/challenge"
)

// NewDNSChallengeProviderByName refuses every provider in this build.
func NewDNSChallengeProviderByName(name string) (challenge.Provider, error) {
	return nil, fmt.Errorf("DNS challenge provider %q is not built into this traefik (storefleet test-node build)", name)
}
