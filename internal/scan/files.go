package scan

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/lint"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules"
	"github.com/medscan/medscan/store"
)

// MaxFileBytes caps the size of one certificate file read by RunFiles: a bundle larger
// than this is not a certificate file but a mistake (a disk image given by accident).
const MaxFileBytes = 64 << 20

// FileOptions describe one run of medscan lint over certificate files.
type FileOptions struct {
	// Paths are certificate files and folders (walked recursively, hidden entries
	// skipped).
	Paths []string
	// FromScan re-lints every certificate of a stored scan (its ID); 0 for none.
	FromScan    int64
	Policy      *rules.Policy // nil means the default policy
	Label       string
	Site        string // where the run is made (--site)
	ToolVersion string
	// FileError is told about each file that could not be read in full, as it happens.
	FileError func(err error)
	// Warn is told about each file named in Paths itself (not found in a folder) that
	// holds no certificate and was skipped.
	Warn func(msg string)
	// KeyBlocklist lists known-compromised keys (--key-blocklist); nil for none.
	KeyBlocklist *lint.Blocklist
	// Clock gives the scan's times; a certificate read from a file is observed when
	// it is read. Tests fix it.
	Clock func() time.Time
}

// RunFiles reads certificates from files (and from a stored scan), examines them,
// applies the rules of the policy and stores the result as a scan of kind lint. A
// certificate read from a file has a sighting of source "file" naming the file and its
// position there: no endpoint, so findings about it have Host "", the file in File and
// the certificate's SHA-256 as Subject. A certificate of a stored scan keeps the
// sightings that scan recorded, hosts and ports included. A file that holds no certificate, or is damaged part-way, is a
// problem of the scan, which goes on; the scan is then incomplete. RunFiles returns an
// error only when nothing could be stored: a *NotStoredError, with the document in
// Result.Report, when the run was done but saving it failed (a stored run's document is
// in Result.Report too, as Run's is).
func RunFiles(ctx context.Context, st *store.Store, opt FileOptions) (Result, error) {
	clock := opt.Clock
	if clock == nil {
		clock = time.Now
	}
	pol := opt.Policy
	if pol == nil {
		pol = rules.DefaultPolicy()
	}
	started := clock()
	set := observe.NewSet()
	complete := true
	problem := func(source, msg string) {
		complete = false
		p := observe.Problem{Source: source, Offset: -1, Message: msg}
		set.Problem(p)
		if opt.FileError != nil {
			opt.FileError(p)
		}
	}
	sources := sourceNames(opt.Paths)
	for _, root := range opt.Paths {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				problem(path, errMessage(err))
				return nil
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if path != root && len(d.Name()) > 1 && d.Name()[0] == '.' {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() || !d.Type().IsRegular() && d.Type()&fs.ModeSymlink == 0 {
				return nil
			}
			if skipped := readCertFile(set, path, clock(), problem); skipped != "" && path == root && opt.Warn != nil {
				opt.Warn(fileName(path) + ": " + skipped + ", skipped")
			}
			return nil
		})
		if err != nil {
			problem(root, "not read to its end: scan interrupted")
		}
	}
	if opt.FromScan != 0 {
		src := fmt.Sprintf("scan:%d", opt.FromScan)
		sources = append(sources, src)
		if err := addStoredScan(ctx, st, set, opt.FromScan, clock()); err != nil {
			return Result{}, fmt.Errorf("%s: %w", src, err)
		}
	}
	return judgeAndStore(ctx, st, set, pol, opt.KeyBlocklist, clock, findings.ScanInfo{Kind: findings.KindLint,
		Started: started, Label: opt.Label, Site: opt.Site, Sources: sources, Complete: complete, ToolVersion: opt.ToolVersion}, false, nil)
}

// errMessage is an error without the path that the problem already names.
func errMessage(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Op + ": " + pe.Err.Error()
	}
	return err.Error()
}

// The counters of what a lint run skipped (SkippedSummary words them).
const (
	counterSkippedKeys          = "skipped_private_keys"
	counterSkippedEncryptedKeys = "skipped_encrypted_private_keys"
	counterSkippedCSRs          = "skipped_csrs"
	counterSkippedOther         = "skipped_other_files"
)

// readCertFile adds the certificates of one file to the set, as file sightings at
// positions in the order the file holds them. Private keys and requests (beside
// certificates or alone), and a file with nothing medscan recognises (a README), are
// counted as skipped, never a problem: a folder of a device's PKI material holds them.
// Each private key is also recorded as a key file (what it is, never its bytes), which
// rule key-file-exposed reports.
// It returns what the file was when it held no certificate ("a private key", "not a
// certificate file"), else "".
func readCertFile(set *observe.Set, path string, at time.Time, problem func(source, msg string)) (skipped string) {
	fi, err := os.Stat(path)
	if err != nil {
		problem(path, errMessage(err))
		return ""
	}
	if fi.IsDir() {
		return ""
	}
	if fi.Size() > MaxFileBytes {
		problem(path, fmt.Sprintf("%d bytes, beyond the limit of %d for a certificate file; not read", fi.Size(), MaxFileBytes))
		return ""
	}
	data, err := os.ReadFile(path)
	if err != nil {
		problem(path, errMessage(err))
		return ""
	}
	ders, err := lint.ReadCerts(data)
	material := lint.FindMaterial(data)
	keys := 0
	for _, m := range material {
		switch {
		case m.Kind == lint.MaterialCSR:
			set.AddCounter(counterSkippedCSRs, 1)
			continue
		case m.Encrypted:
			set.AddCounter(counterSkippedEncryptedKeys, 1)
		default:
			set.AddCounter(counterSkippedKeys, 1)
		}
		set.AddKeyFile(keyFile(m, path, keys, fi.Mode(), at))
		keys++
	}
	if err == lint.ErrNotCertificate {
		// Nothing in the file is, or looks like, a certificate.
		switch {
		case len(material) == 0:
			set.AddCounter(counterSkippedOther, 1)
			return "not a certificate file"
		case material[0].Kind == lint.MaterialCSR:
			return "a certificate signing request, not a certificate"
		}
		return "a private key, not a certificate"
	}
	for i, der := range ders {
		addFileCert(set, der, fileName(path), i, at)
	}
	set.AddCounter("cert_files_read", 1)
	set.AddCounter("certificates_read", uint64(len(ders)))
	if err != nil {
		problem(path, err.Error())
	}
	return ""
}

// keyFile is the observation of the private key m, the position-th of the file at path:
// what the key is (lint.FindMaterial read it from its public half) and where it lies.
func keyFile(m lint.Material, path string, position int, mode fs.FileMode, at time.Time) observe.KeyFile {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	return observe.KeyFile{File: fileName(path), Path: filepath.Clean(abs), Position: position, Format: m.Format,
		KeyType: m.KeyType, KeyBits: m.KeyBits, Curve: m.Curve, Encrypted: m.Encrypted,
		Mode: fmt.Sprintf("%04o", mode.Perm()), SPKISHA256: m.SPKISHA256, Time: at}
}

// SkippedSummary words what a lint run skipped, from its counters: "2 private keys (1
// encrypted), 1 CSR, 1 other file", or "" when it skipped nothing.
func SkippedSummary(counters []observe.Counter) string {
	n := map[string]uint64{}
	for _, c := range counters {
		n[c.Name] = c.Value
	}
	var parts []string
	if keys, enc := n[counterSkippedKeys]+n[counterSkippedEncryptedKeys], n[counterSkippedEncryptedKeys]; keys > 0 {
		p := plural(keys, "private key", "private keys")
		if enc > 0 {
			p += fmt.Sprintf(" (%d encrypted)", enc)
		}
		parts = append(parts, p)
	}
	if c := n[counterSkippedCSRs]; c > 0 {
		parts = append(parts, plural(c, "CSR", "CSRs"))
	}
	if c := n[counterSkippedOther]; c > 0 {
		parts = append(parts, plural(c, "other file", "other files"))
	}
	return strings.Join(parts, ", ")
}

func plural(n uint64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// fileName is a file as findings and reports name it: the path as the user gave it
// (relative stays relative), cleaned, with forward slashes. Unlike the run's sources
// (sourceNames: absolute, because the history pairs runs by them), this is for a reader
// and for SARIF, whose consumers resolve a relative path against the folder the run was
// made from (a repository's root in CI); the same command in the same folder names the
// same files, run after run, and a finding's fingerprint does not depend on it.
func fileName(path string) string { return filepath.ToSlash(filepath.Clean(path)) }

// addFileCert records a certificate read from a file: a sighting with no endpoint, no
// role and source file, naming the file and the certificate's position in it.
func addFileCert(set *observe.Set, der []byte, file string, position int, at time.Time) {
	set.AddCertificate(der, observe.CertSighting{Position: position, Time: at, Source: observe.SourceFile, File: file})
}

// addStoredScan adds every certificate of a stored scan with the sightings that scan
// recorded (the host and port that presented it, its place in the chain, when, and how:
// passive, active or from a file), so that the certificates a capture showed are linted
// again under today's rules and policy and every finding still names the host it was
// seen on. A certificate the scan kept without a sighting is added as read from a
// file, at the time of this run. Only the scan's certificates are read, not its
// findings and observations.
func addStoredScan(ctx context.Context, st *store.Store, set *observe.Set, id int64, at time.Time) error {
	rep, err := st.LoadParts(ctx, id, store.PartCertificates)
	if err != nil {
		return err
	}
	for _, c := range rep.Certificates {
		der, err := st.CertificateDER(ctx, c.SHA256)
		if err != nil {
			return err
		}
		if len(c.SeenOn) == 0 {
			addFileCert(set, der, "", 0, at)
		}
		for _, sg := range c.SeenOn {
			set.AddCertificate(der, sg.CertSighting)
		}
	}
	set.AddCounter("certificates_from_store", uint64(len(rep.Certificates)))
	return nil
}
