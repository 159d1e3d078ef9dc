package certrules

import (
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/rules"
)

// finding starts a certificate finding about a presentation, observed at a time.
func finding(p rules.Presentation, at time.Time, msg string) findings.Finding {
	return p.Place(findings.Finding{
		Subject:   p.Cert.SHA256.String(),
		Message:   msg,
		Evidence:  p.Evidence(at),
		Time:      at,
		FirstSeen: p.FirstSeen,
		LastSeen:  p.LastSeen,
		Source:    string(p.Source),
	})
}

// name is how a message names a certificate.
func name(p rules.Presentation) string { return p.Name() }

// date formats a validity bound for messages.
func date(t time.Time) string { return t.UTC().Format("2006-01-02") }

// validityKnown reports whether the certificate's validity could be read.
func validityKnown(p rules.Presentation) bool {
	return !p.Facts.NotBefore.IsZero() && !p.Facts.NotAfter.IsZero()
}

// certificateCoverage is what every certificate rule covers: the certificates a target
// presents, which any handshake with observable certificates, an active probe at any
// profile, or a certificate file read again shows.
var certificateCoverage = findings.Coverage{Domain: findings.DomainCertificates,
	Needs: []findings.Evidence{findings.SeenCertificates}, Profile: "inventory"}
