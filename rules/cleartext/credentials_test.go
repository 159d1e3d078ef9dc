package cleartext

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules/internal/rulestest"
)

func TestCredentials(t *testing.T) {
	h := observe.NewSecretHasher([]byte("0123456789abcdef0123456789abcdef"))
	secret := "hunter2-pump-admin"
	preview, hash := h.Hide([]byte(secret))
	cred := func(client, server, kind, user string) observe.Credential {
		return observe.Credential{Flow: flow(client, server), FirstSeen: rulestest.T0, Protocol: "http", Kind: kind,
			Where: "Authorization", User: user, Preview: preview, Hash: hash}
	}
	tests := []struct {
		name  string
		creds []observe.Credential
		want  []string
	}{
		{"basic auth fires", []observe.Credential{cred("10.0.0.5:40000", "192.254.189.169:80", "http-basic", "admin")},
			[]string{"high 192.254.189.169:80"}},
		{"same secret from two pumps: one finding listing both", []observe.Credential{
			cred("10.0.0.5:40000", "192.0.2.9:8000", "http-basic", "admin"),
			cred("10.0.0.6:40000", "192.0.2.9:8000", "http-basic", "admin")},
			[]string{"high 192.0.2.9:8000"}},
		{"two kinds: two findings", []observe.Credential{
			cred("10.0.0.5:40000", "192.0.2.9:8000", "http-basic", "admin"),
			cred("10.0.0.5:40000", "192.0.2.9:8000", "http-bearer", "")},
			[]string{"high 192.0.2.9:8000", "high 192.0.2.9:8000"}},
		{"no credentials: not applicable", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set := observe.NewSet()
			for _, c := range tc.creds {
				set.AddCredential(c)
			}
			fs := rulestest.Run(t, credentials{}, set, nil)
			if got := rulestest.Keys(fs); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for _, f := range fs {
				b, _ := json.Marshal(f)
				if strings.Contains(string(b), secret) {
					t.Errorf("finding carries the secret: %s", b)
				}
				if !strings.HasSuffix(f.Subject, ":"+hash) || f.Evidence["preview"] != preview {
					t.Errorf("subject %q evidence %v", f.Subject, f.Evidence)
				}
			}
			if tc.name == "same secret from two pumps: one finding listing both" {
				if c := fs[0].Evidence["clients"].([]string); !slices.Equal(c, []string{"10.0.0.5", "10.0.0.6"}) {
					t.Errorf("clients %v", c)
				}
			}
		})
	}
}
