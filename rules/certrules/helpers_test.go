package certrules

import (
	"crypto/sha256"
	"time"

	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules/internal/rulestest"
)

// served builds a set where server presents chain (leaf first) to one client at time at.
func served(server string, at time.Time, chain ...[]byte) *observe.Set {
	set := observe.NewSet()
	s := rulestest.Session(server, "198.51.100.9:50000", 0x0303, 0xc02f)
	s.FirstSeen, s.LastSeen = at, at
	set.AddTLS(s, chain, nil)
	return set
}

// tls13 builds a set with a TLS 1.3 session, whose certificates are not observable.
func tls13(server string) *observe.Set {
	set := observe.NewSet()
	set.AddTLS(rulestest.Session(server, "198.51.100.9:50000", 0x0304, 0x1301), nil, nil)
	return set
}

// fromFile builds a set holding a certificate read from a file: a sighting without an
// endpoint, role or session.
func fromFile(der []byte, at time.Time) *observe.Set {
	set := observe.NewSet()
	set.AddTLS(observe.TLSSession{FirstSeen: at, Source: observe.SourceFile}, [][]byte{der}, nil)
	set.TLSSessions = nil
	for _, c := range set.Certificates {
		for i := range c.Seen {
			c.Seen[i].Role = ""
		}
	}
	return set
}

// day is a UTC midnight.
func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// sha is the SHA-256 of a DER certificate, as the set keys it.
func sha(der []byte) [32]byte { return sha256.Sum256(der) }
