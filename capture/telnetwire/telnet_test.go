package telnetwire

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/observe"
)

var t0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

func TestDetect(t *testing.T) {
	tests := []struct {
		name string
		b    string
		want dissect.Verdict
	}{
		{"server negotiates", "\xff\xfd\x18\xff\xfd\x20\xff\xfb\x01", dissect.Yes},
		{"client negotiates", "\xff\xfb\x18", dissect.Yes},
		{"too short", "\xff\xfd", dissect.NeedMore},
		{"IAC then junk", "\xff\x10\x01", dissect.No},
		{"unassigned option", "\xff\xfd\x80", dissect.No},
		{"a banner", "220 ftp ready\r\n", dissect.No},
		{"TLS", "\x16\x03\x01\x02\x00", dissect.No},
	}
	for _, tc := range tests {
		if got := Detect([]byte(tc.b)).Verdict; got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

type chunk struct {
	fromServer bool
	b          string
}

func run(chunks []chunk) *observe.Set {
	set := observe.NewSet()
	ctx := &dissect.Context{Flow: observe.Flow{Client: netip.MustParseAddrPort("10.20.3.50:50000"),
		Server: netip.MustParseAddrPort("10.20.1.13:23")}, Sink: set, Secrets: observe.NewSecretHasher(make([]byte, 32))}
	s := New(ctx)
	for i, c := range chunks {
		dir := dissect.ClientToServer
		if c.fromServer {
			dir = dissect.ServerToClient
		}
		s.Data(dir, []byte(c.b), t0.Add(time.Duration(i)*time.Millisecond))
	}
	s.End(t0)
	return set
}

// typed is a line typed one key per segment, each echoed by the server when echo is set.
func typed(line string, echo bool) []chunk {
	var out []chunk
	for _, c := range line {
		out = append(out, chunk{false, string(c)})
		if echo {
			out = append(out, chunk{true, string(c)})
		}
	}
	return append(out, chunk{false, "\r\x00"}, chunk{true, "\r\n"})
}

func TestLogin(t *testing.T) {
	secrets := observe.NewSecretHasher(make([]byte, 32))
	pw, hash := secrets.Hide([]byte("Svc!Pump-99"))
	login := []chunk{
		{true, "\xff\xfd\x18\xff\xfd\x20\xff\xfd\x23\xff\xfd\x27"},
		{false, "\xff\xfb\x18\xff\xfb\x20\xff\xfa\x18\x00XTERM\xff\xf0"},
		{true, "\xff\xfb\x03\xff\xfb\x01\r\nWardMed IP-7000 service port\r\npump-0013 login: "},
	}
	login = append(login, typed("service", true)...)
	login = append(login, chunk{true, "Password: "})
	withBackspace := append(append([]chunk{}, login...), typed("Svc!Pump-9X\x7f9", false)...)
	login = append(login, typed("Svc!Pump-99", false)...)
	login = append(login, chunk{true, "\r\nLast login: Mon Mar  2 07:12:01\r\n$ "}, chunk{false, "ls\r\n"})
	tests := []struct {
		name   string
		chunks []chunk
		want   int
	}{
		{"login with negotiation and echo", login, 1},
		{"backspace edits the password", withBackspace, 1},
		{"no prompt, no credential", []chunk{{true, "\xff\xfb\x01welcome\r\n$ "}, {false, "secret\r\n"}}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set := run(tc.chunks)
			if len(set.Credentials) != tc.want {
				t.Fatalf("credentials %+v", set.Credentials)
			}
			for _, c := range set.Credentials {
				if c.Protocol != "telnet" || c.Kind != "telnet-password" || c.User != "service" || c.Preview != pw ||
					c.Hash != hash || strings.Contains(c.Preview, "Pump") {
					t.Errorf("credential %+v", c)
				}
			}
		})
	}
}

func FuzzStream(f *testing.F) {
	f.Add([]byte("\xff\xfd\x18login: "), []byte("root\r\n"), []byte("Password:"), []byte("toor\r\x00"))
	f.Add([]byte("\xff\xfa\x18\xff\xff\xff\xf0"), []byte("\xff\xff\x7f\x08\r"), []byte("\xff"), []byte("\n"))
	f.Fuzz(func(t *testing.T, a, b, c, d []byte) {
		set := observe.NewSet()
		s := New(&dissect.Context{Sink: set, Secrets: observe.NewSecretHasher(make([]byte, 32))})
		s.Data(dissect.ServerToClient, a, t0)
		s.Data(dissect.ClientToServer, b, t0)
		s.Gap(dissect.ClientToServer, 3)
		s.Data(dissect.ServerToClient, c, t0)
		s.Data(dissect.ClientToServer, d, t0)
		s.End(t0)
		if len(set.Credentials) > MaxAttempts {
			t.Fatalf("%d credentials", len(set.Credentials))
		}
	})
}
