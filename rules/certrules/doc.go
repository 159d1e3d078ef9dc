// Package certrules holds the rules about certificates as hosts present them: validity at
// the time of observation, lifetime, signature algorithm and self-signed leaves.
//
// They judge presentations (rules.Context.Presentations): one finding per rule, host,
// port and certificate, with the certificate's SHA-256 as the finding's Subject. Validity
// is judged on the leaf at the observation's own time, never at the wall clock: expiry
// and expiring-soon at the last time the certificate was seen served, not-yet-valid at
// the first. A certificate without an observation time is not judged on validity.
package certrules
