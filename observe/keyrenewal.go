package observe

import "time"

// KeyRenewal is one server key an endpoint kept while its certificate changed: the
// certificates that carried it there, oldest first, and since when the key has been in
// use there (the earliest of their notBefore dates and of the sightings). Seen is when
// this scan last saw it: the key's age is judged at that time, not the wall clock's, so
// that a capture replayed later is judged as it was.
type KeyRenewal struct {
	Endpoint     Endpoint
	SPKISHA256   string
	Certificates []string // SHA-256 of each certificate, oldest first
	Subject      string   // of the newest certificate
	Since        time.Time
	Seen         time.Time
	// Scans are the stored scans that saw an earlier certificate with this key there.
	Scans []int64
}
