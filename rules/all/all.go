// Package all registers every medscan rule: the pipeline and the CLI import it for its
// side effect, so that adding a domain package means adding one line here.
package all

import (
	_ "github.com/medscan/medscan/rules/certrules" // certificate validity, lifetime, signature, trust, names, zlint
	_ "github.com/medscan/medscan/rules/cleartext" // HL7, DICOM, FHIR, APIs, credentials and software images in clear
	_ "github.com/medscan/medscan/rules/coderules" // update images: unsigned, invalid, untrusted or weak signers, inconsistent
	_ "github.com/medscan/medscan/rules/intercept" // signs of a man in the middle: substituted keys, ARP spoofing, rogue DHCP, STARTTLS stripping
	_ "github.com/medscan/medscan/rules/keyrules"  // weak, shared and factorable keys
	_ "github.com/medscan/medscan/rules/tlsrules"  // negotiated versions, suites, DH groups, client authentication
)
