package protocols

import (
	"testing"

	"github.com/medscan/medscan/capture/dissect"
)

// upgraders are the dissectors of protocols that upgrade to TLS in place whose Detect
// came last; they must claim nothing another dissector claims.
var upgraders = map[string]bool{"mysql": true, "postgresql": true, "ldap": true, "xmpp": true}

// openings are first bytes of each of them, and of protocols they could be confused with.
var openings = []string{
	"J\x00\x00\x00\x0a5.5.5-10.11.6-MariaDB\x00\x07\x00\x00\x00abcdefgh\x00\xfe\xf7",  // MySQL greeting
	"\x20\x00\x00\x01\x8a\xaa\x3f\x00\x00\x00\x00\x01\x2d" + string(make([]byte, 23)), // MySQL SSL Request
	"\x00\x00\x00\x08\x04\xd2\x16\x2f",                                                // PostgreSQL SSLRequest
	"\x00\x00\x00\x21\x00\x03\x00\x00user\x00ris\x00database\x00w\x00\x00",            // StartupMessage
	"0\x1d\x02\x01\x01w\x18\x80\x161.3.6.1.4.1.1466.20037",                            // LDAP StartTLS
	"<?xml version='1.0'?><stream:stream to='h' xmlns='jabber:client'>",               // XMPP
	"\x16\x03\x01\x00\x80\x01\x00\x00\x7c\x03\x03", "GET / HTTP/1.1\r\n", "\x0bMSH|^~\\&|",
	"\x01\x00\x00\x00\x00\xcd\x00\x01", "\x10\x1a\x00\x04MQTT\x04", "220 mx ESMTP\r\n", "* OK IMAP\r\n",
	"+OK\r\n", "USER bob\r\n", "\xff\xfd\x18",
}

func TestDetectExclusive(t *testing.T) {
	// The upgraders' openings are theirs, so the check below is not vacuous.
	for i, want := range []string{"mysql", "mysql", "postgresql", "postgresql", "ldap", "xmpp"} {
		var got []string
		for _, d := range All() {
			if d.Detect([]byte(openings[i])).Verdict == dissect.Yes {
				got = append(got, d.Name)
			}
		}
		if len(got) != 1 || got[0] != want {
			t.Errorf("opening %d (%q) is claimed by %v, want %s", i, openings[i], got, want)
		}
	}
	for _, o := range openings {
		for k := 0; k <= len(o); k++ {
			exclusive(t, []byte(o[:k]))
		}
	}
}

func exclusive(t testing.TB, b []byte) {
	t.Helper()
	var claimed []string
	upgrader := false
	for _, d := range All() {
		if d.Detect(b).Verdict == dissect.Yes {
			claimed = append(claimed, d.Name)
			upgrader = upgrader || upgraders[d.Name]
		}
	}
	if upgrader && len(claimed) > 1 {
		t.Fatalf("%q is claimed by %v", b, claimed)
	}
}

func FuzzDetectExclusive(f *testing.F) {
	for _, o := range openings {
		f.Add([]byte(o))
	}
	f.Fuzz(func(t *testing.T, b []byte) { exclusive(t, b) })
}
