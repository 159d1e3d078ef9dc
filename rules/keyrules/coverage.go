package keyrules

import "github.com/medscan/medscan/findings"

// keyCoverage is what every key rule covers: the key a target presents, in its
// certificate, which any handshake with observable certificates, an active probe at any
// profile, or a certificate file read again shows.
var keyCoverage = findings.Coverage{Domain: findings.DomainKeys,
	Needs: []findings.Evidence{findings.SeenCertificates}, Profile: "inventory"}

// sharedKeyCoverage is key-shared's: seeing one holder again does not show whether the
// others still hold its key (findings.SeenKeyHolders).
var sharedKeyCoverage = findings.Coverage{Domain: findings.DomainKeys,
	Needs: []findings.Evidence{findings.SeenKeyHolders}, Profile: "inventory"}
