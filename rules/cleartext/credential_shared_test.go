package cleartext

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules/internal/rulestest"
)

func TestCredentialShared(t *testing.T) {
	h := observe.NewSecretHasher([]byte("0123456789abcdef0123456789abcdef"))
	key := "wv-telemetry-8f3KqZ71xLmP0sTa9vRb"
	keyPreview, keyHash := h.Hide([]byte(key))
	otherPreview, otherHash := h.Hide([]byte("another-fleet-key-0000"))
	cred := func(client, server, kind, preview, hash string) observe.Credential {
		return observe.Credential{Flow: flow(client, server), FirstSeen: rulestest.T0, Protocol: "http", Kind: kind,
			Where: "X-API-Key", Preview: preview, Hash: hash}
	}
	tests := []struct {
		name     string
		creds    []observe.Credential
		want     []string
		subjects []string
	}{
		{"one key from three monitors fires once", []observe.Credential{
			cred("10.20.1.21:40000", "10.20.0.40:8080", "api-key-header", keyPreview, keyHash),
			cred("10.20.1.22:40001", "10.20.0.40:8080", "api-key-header", keyPreview, keyHash),
			cred("10.20.1.23:40002", "10.20.0.40:8080", "api-key-header", keyPreview, keyHash)},
			[]string{"high 10.20.0.40:8080"}, []string{"api-key-header"}},
		{"sent to two servers by one host each: one finding per server", []observe.Credential{
			cred("10.0.0.5:40000", "10.0.0.90:80", "http-bearer", keyPreview, keyHash),
			cred("10.0.0.6:40000", "10.0.0.9:80", "http-bearer", keyPreview, keyHash)},
			[]string{"high 10.0.0.90:80", "high 10.0.0.9:80"}, []string{"http-bearer", "http-bearer"}},
		{"two shared secrets of one kind to one server: one finding listing both", []observe.Credential{
			cred("10.0.0.5:40000", "10.0.0.40:8080", "api-key-header", keyPreview, keyHash),
			cred("10.0.0.6:40000", "10.0.0.40:8080", "api-key-header", keyPreview, keyHash),
			cred("10.0.0.7:40000", "10.0.0.40:8080", "api-key-header", otherPreview, otherHash),
			cred("10.0.0.8:40000", "10.0.0.40:8080", "api-key-header", otherPreview, otherHash)},
			[]string{"high 10.0.0.40:8080"}, []string{"api-key-header"}},
		{"one host, many connections: quiet", []observe.Credential{
			cred("10.0.0.5:40000", "10.0.0.40:8080", "api-key-header", keyPreview, keyHash),
			cred("10.0.0.5:40001", "10.0.0.41:8080", "api-key-header", keyPreview, keyHash)}, nil, nil},
		{"distinct secrets per host: quiet", []observe.Credential{
			cred("10.0.0.5:40000", "10.0.0.40:8080", "api-key-header", keyPreview, keyHash),
			cred("10.0.0.6:40000", "10.0.0.40:8080", "api-key-header", otherPreview, otherHash)}, nil, nil},
		{"same hash, different kinds: quiet", []observe.Credential{
			cred("10.0.0.5:40000", "10.0.0.40:8080", "api-key-header", keyPreview, keyHash),
			cred("10.0.0.6:40000", "10.0.0.40:8080", "url-secret", keyPreview, keyHash)}, nil, nil},
		{"no credentials: not applicable", nil, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set := observe.NewSet()
			for _, c := range tc.creds {
				set.AddCredential(c)
			}
			fs := rulestest.Run(t, credentialShared{}, set, nil)
			if got := rulestest.Keys(fs); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			var subjects []string
			for _, f := range fs {
				subjects = append(subjects, f.Subject)
				b, _ := json.Marshal(f)
				if strings.Contains(string(b), key) || strings.Contains(f.Subject, keyHash) {
					t.Errorf("finding carries the secret or keys on the hash: %s", b)
				}
				secrets := f.Evidence["secrets"].([]map[string]any)
				clients := f.Evidence["clients"].([]string)
				sharedBy := f.Evidence["shared_by"].([]string)
				if f.Evidence["hosts"] != len(sharedBy) || len(sharedBy) < 2 || len(clients) == 0 {
					t.Errorf("evidence %v", f.Evidence)
				}
				sentHere := 0
				for _, c := range tc.creds {
					if c.Flow.Server.String() == findings.Target(f.Host, f.Port) {
						sentHere++
					}
				}
				if f.Evidence["count"] != sentHere {
					t.Errorf("count %v, want the %d credentials sent to %s", f.Evidence["count"], sentHere, findings.Target(f.Host, f.Port))
				}
				if len(clients) == 1 && !strings.Contains(f.Message, "2 hosts in all share it") {
					t.Errorf("message %q does not say who else shares the secret", f.Message)
				}
				switch len(secrets) {
				case 1:
					if f.Evidence["preview"] != keyPreview || f.Evidence["hash"] != keyHash ||
						!strings.Contains(f.Message, keyPreview) {
						t.Errorf("message %q evidence %v", f.Message, f.Evidence)
					}
				case 2:
					if !strings.Contains(f.Message, "4 hosts") || !strings.Contains(f.Message, "2 shared api-key-header secrets") {
						t.Errorf("message %q", f.Message)
					}
				default:
					t.Errorf("secrets %v", secrets)
				}
			}
			if !slices.Equal(subjects, tc.subjects) {
				t.Errorf("subjects %q, want %q", subjects, tc.subjects)
			}
		})
	}
}
