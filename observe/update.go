package observe

import (
	"slices"
	"time"
)

// UpdateImage is one firmware or software image examined for code signing (package
// codesign): what it is, where it came from, who fetched it, and what its signatures say.
// It holds facts only; the rules (rules/coderules) judge them. Two images are the same
// entry when they share Origin, Dir, Name and SHA256: the same bytes fetched by several
// devices are one image with several Clients.
type UpdateImage struct {
	Name string `json:"name"` // base name as served or on disk
	// Dir is the directory part of the URL path or file path: pairing with signatures
	// happens within one Origin and Dir. A URL path identifier is patient data, so the
	// capture side passes the path template, never raw identifiers.
	Dir string `json:"dir"`
	// Origin is the server ("http://10.0.0.5:80", "tftp://10.0.0.7:69") or "file" for
	// medscan verify.
	Origin  string `json:"origin"`
	Version string `json:"version,omitempty"` // where the format or the name says it
	Size    int64  `json:"size"`
	SHA256  string `json:"sha256"`
	// Format is what the bytes are: "pe" (Authenticode-capable), "raw" (no known
	// container), and so on.
	Format string `json:"format"`
	// Cut is true when the image was truncated at the size limit: it is examined as
	// unknown, never as tampered.
	Cut bool `json:"cut,omitempty"`
	// Verdict sums the signatures up: "verified" (a signature verifies), "invalid" (a
	// signature exists and none verifies), "unsigned" (none found), "unknown" (cut, or no
	// signature could be checked, for instance an OpenPGP signature without its key).
	Verdict    string            `json:"verdict"`
	Signatures []UpdateSignature `json:"signatures,omitempty"`
	// Required is true when the policy says this image must be signed (the default).
	Required bool `json:"required"`
	// Vendor is the policy's vendor entry this image fell under, "" for the global one.
	Vendor  string   `json:"vendor,omitempty"`
	Clients []string `json:"clients,omitempty"` // devices that fetched it, sorted
	// WireSHA256 lists, sorted, the SHA-256 of each transfer that carried this image
	// gzip-encoded (an HTTP body under Content-Encoding: gzip, kept decoded): the digest
	// of the bytes on the wire, which HTTPRequest.BodySHA256 holds, where SHA256 is the
	// decoded image's, the one a vendor publishes. Empty when the image came as it is.
	WireSHA256 []string  `json:"wire_sha256,omitempty"`
	Source     Source    `json:"source"` // passive (from the wire) or file
	Time       time.Time `json:"time"`
}

// UpdateSignature is one signature over an image: embedded (Authenticode), detached
// beside it (X.sig, X.asc, X.p7s), or through a signed checksum manifest.
type UpdateSignature struct {
	// Kind: "cms" (detached CMS/PKCS #7), "openpgp" (detached OpenPGP), "manifest"
	// (a checksum list, itself signed as ManifestKind says), "authenticode"; embedded in
	// update containers: "rauc", "swupdate" (CMS over sw-description), "swupdate-rsa"
	// (a bare RSA key), "mender" (manifest.sig), "fit" (U-Boot FIT), "jar" (JAR
	// signing), "apk-v1", "apk-v2", "apk-v3"; and "swupdate-description" or
	// "mender-manifest" for an unsigned description that disagrees with the artifacts.
	Kind string `json:"kind"`
	// File is the signature's file name ("pump.bin.sig", "SHA256SUMS.asc"), "" when
	// embedded.
	File string `json:"file,omitempty"`
	// ManifestKind is the manifest's own signature kind ("openpgp", "openpgp-clearsign",
	// "cms"), "" when not a manifest or the manifest is not signed.
	ManifestKind string `json:"manifest_kind,omitempty"`
	// Verifies is true when the signature checks over the image's bytes; Reason says why
	// not ("digest mismatch", "no key to check it with", ...).
	Verifies bool   `json:"verifies"`
	Checked  bool   `json:"checked"` // false when it could not be checked at all (Reason says why)
	Reason   string `json:"reason,omitempty"`
	// Digest is the hash the signature uses ("sha256", "sha1", "md5").
	Digest string       `json:"digest"`
	Signer UpdateSigner `json:"signer"`
	// Trust is "trusted" (chains to the policy's anchors for this image), "untrusted"
	// (anchors exist and it does not), or "not-judged" (no anchors); TrustReason says
	// why, and Anchors names the anchor set used ("global" or the vendor's name).
	Trust       string `json:"trust"`
	TrustReason string `json:"trust_reason,omitempty"`
	// SigningTime is the signer's claimed time (CMS signingTime, OpenPGP creation time);
	// Timestamp is a countersigned time (RFC 3161) with TimestampTrusted saying whether
	// its authority chains to the anchors.
	SigningTime      time.Time `json:"signing_time,omitzero"`
	Timestamp        time.Time `json:"timestamp,omitzero"`
	TimestampSigner  string    `json:"timestamp_signer,omitempty"`
	TimestampValid   bool      `json:"timestamp_valid,omitempty"`
	TimestampTrusted bool      `json:"timestamp_trusted,omitempty"`
	// Weaknesses are the signer's weak points, as stable tags: "rsa-1024",
	// "digest-sha1", "digest-md5", "no-code-signing-eku", "expired-at-signing",
	// "not-yet-valid-at-signing", "long-lived", "key-dsa".
	Weaknesses []string `json:"weaknesses,omitempty"`
}

// UpdateSigner is who made a signature: an X.509 certificate (CMS, Authenticode) or an
// OpenPGP key.
type UpdateSigner struct {
	Subject    string    `json:"subject,omitempty"`
	Issuer     string    `json:"issuer,omitempty"`
	Serial     string    `json:"serial,omitempty"`
	CertSHA256 string    `json:"cert_sha256,omitempty"`
	NotBefore  time.Time `json:"not_before,omitzero"`
	NotAfter   time.Time `json:"not_after,omitzero"`
	KeyType    string    `json:"key_type,omitempty"` // "rsa", "ecdsa", "ed25519", "dsa"
	KeyBits    int       `json:"key_bits,omitempty"`
	// KeyID and Fingerprint (hex, upper case) and UserID name an OpenPGP signer; KeyID
	// alone when the key was not at hand.
	KeyID       string `json:"key_id,omitempty"`
	Fingerprint string `json:"fingerprint,omitempty"`
	UserID      string `json:"user_id,omitempty"`
}

// Label is the signer in one line, for tables and messages.
func (s UpdateSigner) Label() string {
	switch {
	case s.Subject != "":
		return s.Subject
	case s.UserID != "":
		return s.UserID + " (" + s.KeyID + ")"
	case s.KeyID != "":
		return "OpenPGP key " + s.KeyID
	}
	return ""
}

// MaxUpdates bounds the images a Set keeps (beyond it, counted as updates_not_kept).
const MaxUpdates = 20000

// AddUpdate records an examined image; one with the same origin, directory, name and
// contents as a kept one adds its clients to it.
func (s *Set) AddUpdate(u UpdateImage) {
	key := u.Origin + "\x00" + u.Dir + "\x00" + u.Name + "\x00" + u.SHA256
	if o := s.updates[key]; o != nil {
		o.Clients = mergeSorted(o.Clients, u.Clients)
		o.WireSHA256 = mergeSorted(o.WireSHA256, u.WireSHA256)
		if !u.Time.IsZero() && (o.Time.IsZero() || u.Time.Before(o.Time)) {
			o.Time = u.Time
		}
		return
	}
	if len(s.Updates) >= MaxUpdates {
		s.count("updates"+notKeptSuffix, 1)
		return
	}
	if s.updates == nil {
		s.updates = map[string]*UpdateImage{}
	}
	u.Clients = mergeSorted(nil, u.Clients)
	u.WireSHA256 = mergeSorted(nil, u.WireSHA256)
	u.Signatures = slices.Clone(u.Signatures)
	s.updates[key] = &u
	s.Updates = append(s.Updates, &u)
}

// ReplaceUpdates makes imgs the set's update images in place of those it held: a live
// scan examines the images kept so far at every checkpoint, and a later examination
// (a signature fetched after its image, another device fetching it) supersedes the
// earlier one rather than adding to it. Images beyond MaxUpdates are counted once, as
// of the latest call.
func (s *Set) ReplaceUpdates(imgs []UpdateImage) {
	s.Updates, s.updates = nil, nil
	name := "updates" + notKeptSuffix
	before := s.counterValue(name)
	for _, u := range imgs {
		s.AddUpdate(u)
	}
	dropped := s.counterValue(name) - before
	for i := range s.Counters {
		if s.Counters[i].Name == name {
			s.Counters[i].Value -= s.updatesDropped
		}
	}
	s.updatesDropped = dropped
	s.Counters = slices.DeleteFunc(s.Counters, func(c Counter) bool { return c.Name == name && c.Value == 0 })
}

// counterValue is the named counter's value, 0 when it was never counted.
func (s *Set) counterValue(name string) uint64 {
	for _, c := range s.Counters {
		if c.Name == name {
			return c.Value
		}
	}
	return 0
}

func mergeSorted(a, b []string) []string {
	out := append(slices.Clone(a), b...)
	slices.Sort(out)
	return slices.Compact(out)
}
