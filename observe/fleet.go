package observe

// Fleet is what the scans of other sites in the store saw that bears on this scan's
// judgement: a key or a secret is shared across a health system's sites only where
// those sites' observations meet. The scan's own observations never come from here;
// the store fills it (through the scan runner) before the rules run, and the rules
// that judge sharing (key-shared, credential-shared, key-factorable) name the sites
// involved from it. A nil or empty Fleet leaves every rule judging this scan alone.
type Fleet struct {
	// Site is this scan's site ("" when the sensor was given none).
	Site string
	// Keys are the leaf certificates' keys other sites' hosts presented, limited to the
	// keys this scan's hosts present.
	Keys []FleetKey
	// Credentials are the secrets (by keyed hash) other sites' clients sent, limited to
	// the hashes of this scan and to the scans hashed under this scan's key: a hash made
	// under another key never compares.
	Credentials []FleetCredential
	// Senders are the clients of other sites that sent HL7 or DICOM to an address this
	// scan saw receiving it, for the inventory's middleware: an interface engine that
	// every site's devices feed is middleware across the fleet even where each site has
	// one sender.
	Senders []FleetSender
	// FactorSites are, for an RSA key of this scan (by SPKI SHA-256) that shares a prime
	// with other keys in the store, the sites where those other keys were seen.
	FactorSites map[string][]string
	// Dropped counts the rows past the caps on what is read from the store.
	Dropped int
}

// FleetKey is one host of another site presenting a key as its own (a leaf).
type FleetKey struct {
	Site       string
	SPKISHA256 string
	Host       string // the address
	Port       int
	Role       string // "server" or "client"
	CertSHA256 string
	Subject    string
	Names      []string // the certificate's DNS names and addresses, sorted
}

// FleetCredential is one client of another site sending a secret.
type FleetCredential struct {
	Site   string
	Kind   string
	Hash   string
	Client string // the client's address
	Server string // host:port it was sent to
}

// FleetSender is one client of another site sending HL7 or DICOM to a server address.
type FleetSender struct {
	Site     string
	Client   string // the client's address
	Server   string // the server's address (no port)
	Protocol string // "hl7" or "dicom"
	// App is what the sender addressed there: the HL7 receiving application (MSH-5) or
	// the DICOM called AE title. Two sites number their networks alike, so an address
	// alone does not make one host: the inventory also matches this name.
	App string
}

// SiteName renders a site for messages: its name, or "(unnamed)" for scans given no
// --site.
func SiteName(site string) string {
	if site == "" {
		return "(unnamed)"
	}
	return site
}
