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
		{"two secrets on one server and kind: one finding naming both", []observe.Credential{
			cred("10.0.0.5:40000", "192.0.2.9:8000", "http-basic", "admin"),
			{Flow: flow("10.0.0.7:40000", "192.0.2.9:8000"), FirstSeen: rulestest.T0, Protocol: "http", Kind: "http-basic",
				Where: "Authorization", User: "nurse", Preview: "ot****er (9 chars)", Hash: "other"}},
			[]string{"high 192.0.2.9:8000"}},
		{"a database login without a secret fires, naming the user", []observe.Credential{
			{Flow: flow("10.0.0.5:40000", "192.0.2.9:3306"), FirstSeen: rulestest.T0, Protocol: "mysql", Kind: "mysql-login",
				Where: "handshake response", User: "pump_rw"}},
			[]string{"high 192.0.2.9:3306"}},
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
			if strings.HasPrefix(tc.name, "a database login") {
				if secrets := fs[0].Evidence["secrets"].([]map[string]any); len(secrets) != 0 || fs[0].Evidence["distinct_secrets"] != 0 ||
					!strings.Contains(fs[0].Message, "for user pump_rw") || !strings.Contains(fs[0].Message, "salted digest") {
					t.Errorf("evidence %v, message %q", fs[0].Evidence, fs[0].Message)
				}
				return
			}
			if strings.HasPrefix(tc.name, "two secrets") {
				if n := fs[0].Evidence["distinct_secrets"]; n != 2 || !strings.Contains(fs[0].Message, "2 distinct secrets") {
					t.Errorf("distinct_secrets %v, message %q", n, fs[0].Message)
				}
				return
			}
			for _, f := range fs {
				b, _ := json.Marshal(f)
				if strings.Contains(string(b), secret) {
					t.Errorf("finding carries the secret: %s", b)
				}
				secrets := f.Evidence["secrets"].([]map[string]any)
				if !strings.HasPrefix(f.Subject, "http-") || strings.Contains(f.Subject, hash) ||
					len(secrets) != 1 || secrets[0]["preview"] != preview || secrets[0]["hash"] != hash {
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
