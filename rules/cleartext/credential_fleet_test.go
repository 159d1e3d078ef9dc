package cleartext

import (
	"slices"
	"strings"
	"testing"

	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules/internal/rulestest"
)

// TestCredentialSharedAcrossSites: one client here and one at another site sending the
// same secret (compared by keyed hash; the store passes only hashes made under this
// scan's key) is a shared credential, naming both sites; without the other site it is
// quiet, as before.
func TestCredentialSharedAcrossSites(t *testing.T) {
	h := observe.NewSecretHasher([]byte("0123456789abcdef0123456789abcdef"))
	preview, hash := h.Hide([]byte("wv-telemetry-8f3KqZ71xLmP0sTa9vRb"))
	_, other := h.Hide([]byte("another-fleet-key-0000"))
	elsewhere := func(site, client, kind, hash string) observe.FleetCredential {
		return observe.FleetCredential{Site: site, Kind: kind, Hash: hash, Client: client, Server: "10.30.0.40:8080"}
	}
	tests := []struct {
		name  string
		fleet *observe.Fleet
		want  []string
		sites []string
	}{
		{"alone: quiet", nil, nil, nil},
		{"another site's client: shared across sites", &observe.Fleet{Site: "north",
			Credentials: []observe.FleetCredential{elsewhere("south", "10.30.1.21", "api-key-header", hash)}},
			[]string{"high 10.20.0.40:8080"}, []string{"north", "south"}},
		{"another secret elsewhere: quiet", &observe.Fleet{Site: "north",
			Credentials: []observe.FleetCredential{elsewhere("south", "10.30.1.21", "api-key-header", other)}}, nil, nil},
		{"the same hash of another kind elsewhere: quiet", &observe.Fleet{Site: "north",
			Credentials: []observe.FleetCredential{elsewhere("south", "10.30.1.21", "url-secret", hash)}}, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set := observe.NewSet()
			set.AddCredential(observe.Credential{Flow: flow("10.20.1.21:40000", "10.20.0.40:8080"), FirstSeen: rulestest.T0,
				Protocol: "http", Kind: "api-key-header", Where: "X-API-Key", Preview: preview, Hash: hash})
			set.Fleet = tc.fleet
			fs := rulestest.Run(t, credentialShared{}, set, nil)
			if got := rulestest.Keys(fs); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			if len(fs) == 0 {
				return
			}
			f := fs[0]
			if got, _ := f.Evidence["sites"].([]string); !slices.Equal(got, tc.sites) {
				t.Errorf("sites %v, want %v", f.Evidence["sites"], tc.sites)
			}
			if got := f.Evidence["shared_by"].([]string); !slices.Equal(got, []string{"10.20.1.21", "10.30.1.21 (site south)"}) {
				t.Errorf("shared_by %v", got)
			}
			if !strings.Contains(f.Message, "2 hosts in all share it") || !strings.HasSuffix(f.Message, "across sites north, south") {
				t.Errorf("message %q", f.Message)
			}
			if strings.Contains(f.Message, hash) {
				t.Errorf("message carries the hash: %q", f.Message)
			}
		})
	}
}
