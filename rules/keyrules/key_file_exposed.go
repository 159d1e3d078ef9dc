package keyrules

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules"
)

func init() { rules.Register(keyFileExposed{}) }

// keyFileExposed flags a private key found among the certificate files a lint run read.
//
// Severity: low for a key in clear, info for an encrypted one. A key in clear is the
// device's identity for anyone who can read the folder (a share, a repository, a
// backup, an installer), which is more than a hygiene note; but medscan cannot tell
// whether the folder is the device's own protected store or a copy, so it does not call
// it medium and does not fail a default CI gate. An encrypted key is as safe as its
// passphrase and where that is kept, which medscan cannot judge: it is listed so the
// inventory of key material is complete, never counted as a problem of the run.
type keyFileExposed struct{}

// keyFileCoverage: a key file is judged again by reading the place it lay.
var keyFileCoverage = findings.Coverage{Domain: findings.DomainKeys,
	Needs: []findings.Evidence{findings.SeenKeyFileFolder}}

func (keyFileExposed) Meta() rules.Meta {
	return rules.Meta{
		ID:      "key-file-exposed",
		Covers:  keyFileCoverage,
		Owner:   findings.OwnerPKI,
		Risk:    findings.RiskCredentials,
		Title:   "Private key file beside the certificates",
		Default: findings.Low,
		Rationale: "A private key left in a folder of certificates travels wherever the folder does (file " +
			"shares, repositories, backups, installers, support bundles), and whoever reads it can impersonate " +
			"the device or service, or decrypt traffic recorded from it when the suite has no forward secrecy. " +
			"A key in clear is low; an encrypted key (PKCS #8 or PEM encryption, an OpenSSH passphrase) is " +
			"info: it is only as safe as its passphrase, which medscan cannot judge, and is listed so that " +
			"the inventory of key material is complete. The finding names the certificate of the run that " +
			"carries the same public key, so the identity at stake is known.",
		Remediation: "Keep a private key only where its service reads it (the device, an HSM or a secrets " +
			"store), readable by that service alone (mode 0600), never among certificates that are copied or " +
			"shared. If the folder has been shared, committed or backed up, treat the key as compromised: " +
			"generate a new key pair, reissue the certificate and revoke the old one. A key that must be " +
			"stored elsewhere is encrypted with a strong passphrase kept apart from it.",
		References: []string{
			"NIST SP 800-57 Part 1 Rev. 5, §6.1 (protection of keying material: private keys need confidentiality)",
			"FDA, Cybersecurity in Medical Devices: Premarket Submissions (2023), Appendix 1 (cryptography)",
			"HIPAA Security Rule, 45 CFR 164.312(a)(2)(iv) (encryption and decryption)",
			"CWE-312: Cleartext Storage of Sensitive Information",
		},
	}
}

func (keyFileExposed) Check(c *rules.Context) {
	for _, k := range c.Set.KeyFiles {
		ev := map[string]any{
			"key_type":    k.KeyType,
			"key_bits":    k.KeyBits,
			"format":      k.Format,
			"encrypted":   k.Encrypted,
			"files":       []string{k.File},
			"paths":       []string{k.Path},
			"position":    k.Position,
			"mode":        k.Mode,
			"spki_sha256": k.SPKISHA256,
			"observed_at": rules.TimeString(k.Time),
		}
		if k.Curve != "" {
			ev["curve"] = k.Curve
		}
		var subjects []string
		for _, sha := range k.Certificates {
			subjects = append(subjects, certName(c.Set, sha))
		}
		ev["certificates"] = slices.Clone(k.Certificates)
		ev["subjects"] = subjects
		f := findings.Finding{
			File:     k.File,
			Subject:  keyFileSubject(*k),
			Message:  keyFileMessage(*k, subjects),
			Evidence: ev, Time: k.Time, FirstSeen: k.Time, LastSeen: k.Time,
			Source: string(observe.SourceFile),
		}
		if k.Encrypted {
			c.EmitInfo(f)
		} else {
			c.Emit(f)
		}
	}
}

// keyFileSubject is what tells key file findings apart: the public key, so that one key
// in several files is one finding naming them all (as a certificate is), and a key moved
// within the folder stays the same finding; for a key whose public half cannot be read
// (encrypted PKCS #8), its place, absolute.
func keyFileSubject(k observe.KeyFile) string {
	if k.SPKISHA256 != "" {
		return k.SPKISHA256
	}
	return findings.FileRef(k.Path, k.Position)
}

// keyFileMessage says what the key is, where, and whose it is: "private key (RSA-2048)
// readable in certs/dev.key, the key of certificate CN=pump-0013".
func keyFileMessage(k observe.KeyFile, subjects []string) string {
	what, where := "private key", "readable in"
	if k.Encrypted {
		what, where = "encrypted private key", "in"
	}
	place := k.File
	if k.Position > 0 {
		place += " (private key " + strconv.Itoa(k.Position+1) + " in the file)"
	}
	if name := keyName(&observe.CertFacts{KeyType: k.KeyType, KeyBits: k.KeyBits, Curve: k.Curve}); name != "unknown" {
		what += " (" + name + ")"
	} else {
		what += " of unknown type"
	}
	msg := fmt.Sprintf("%s %s %s", what, where, place)
	switch {
	case len(subjects) == 1:
		return msg + ", the key of certificate " + subjects[0]
	case len(subjects) > 1:
		return msg + ", the key of certificates " + listSome(subjects, 3)
	case k.SPKISHA256 == "":
		return msg + "; whose key it is cannot be read without the passphrase"
	}
	return msg + ", the key of no certificate read in this run"
}

// certName is how a message names a certificate of the set given by its SHA-256: its
// common name, else its organization, else its subject, else its digest.
func certName(set *observe.Set, sha string) string {
	var ref observe.CertRef
	if ref.UnmarshalText([]byte(sha)) == nil {
		if c := set.Certificates[ref]; c != nil && c.Facts != nil {
			for _, key := range []string{"CN", "O"} {
				if v := rules.Attribute(c.Facts.Subject, key); v != "" {
					return key + "=" + v
				}
			}
			if c.Facts.Subject != "" {
				return c.Facts.Subject
			}
		}
	}
	return "sha256:" + sha[:min(len(sha), 16)]
}
