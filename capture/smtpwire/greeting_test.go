package smtpwire

import (
	"testing"

	"github.com/medscan/medscan/observe"
)

// TestGreeting checks what each session's EHLO reply said about STARTTLS and what became
// of the session: the facts tls-stripped judges.
func TestGreeting(t *testing.T) {
	stripped := "250-mx.hosp.local\r\n250-PIPELINING\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n"
	tests := []struct {
		name    string
		ex      []msg
		want    int // greetings emitted: 0 or 1
		offered bool
		outcome string
	}{
		{"offered and upgraded", []msg{S(banner), C(ehlo), S(caps), C("STARTTLS\r\n"), S("220 go ahead\r\n")}, 1, true, observe.StartTLSUpgraded},
		{"stripped: left in clear", []msg{S(banner), C(ehlo), S(stripped), C("MAIL FROM:<a@b>\r\n"), S("250 ok\r\n")}, 1, false, observe.StartTLSClear},
		{"offered but refused", []msg{S(banner), C(ehlo), S(caps), C("STARTTLS\r\n"), S("454 4.7.0 TLS not available\r\n"), C("QUIT\r\n")}, 1, true, observe.StartTLSDeclined},
		{"STARTTLS as the last line, lowercase, trailing space", []msg{S(banner), C(ehlo), S("250-mx\r\n250 starttls \r\n"), C("QUIT\r\n")}, 1, true, observe.StartTLSClear},
		{"a keyword that only begins with STARTTLS is not it", []msg{S(banner), C(ehlo), S("250-mx\r\n250 STARTTLSX\r\n"), C("QUIT\r\n")}, 1, false, observe.StartTLSClear},
		{"HELO says nothing", []msg{S(banner), C("HELO pump\r\n"), S("250 mx\r\n"), C("QUIT\r\n")}, 0, false, ""},
		{"a refused EHLO says nothing", []msg{S(banner), C(ehlo), S("502 no\r\n"), C("QUIT\r\n")}, 0, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := run(tc.ex, whole)
			g := r.h.Sink.Greetings
			if len(g) != tc.want {
				t.Fatalf("greetings = %+v, want %d", g, tc.want)
			}
			if tc.want == 1 && (g[0].Offered != tc.offered || g[0].Outcome != tc.outcome || g[0].Protocol != "smtp" || g[0].Flow != flow) {
				t.Errorf("greeting = %+v, want offered %v, outcome %s", g[0], tc.offered, tc.outcome)
			}
		})
	}
}
