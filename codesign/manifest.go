package codesign

import (
	"bufio"
	"bytes"
	"crypto"
	"encoding/hex"
	"io"
	"path"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp/clearsign"

	"github.com/medscan/medscan/observe"
)

// MaxManifestEntries bounds the lines a checksum manifest contributes.
const MaxManifestEntries = 100000

// manifest is a checksum list (SHA256SUMS and the like) and what its own signature says.
type manifest struct {
	name     string
	entries  map[string]manifestEntry // by base name
	reason   string                   // why the manifest could not be read, "" when it was
	data     []byte
	clear    *clearsign.Block
	sigFiles []*classified
	beside   *keyring
	checked  map[*Anchors]*observe.UpdateSignature
}

type manifestEntry struct {
	hash crypto.Hash
	sum  string // hex, lower case
}

// parseManifest reads sha256sum-style lines ("HEX  name", "HEX *name") and BSD-style ones
// ("SHA256 (name) = HEX"); other lines are skipped. The hash is told by the digest's
// length (or the BSD tag).
func parseManifest(text []byte) map[string]manifestEntry {
	out := map[string]manifestEntry{}
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for sc.Scan() && len(out) < MaxManifestEntries {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		var sum, name string
		var h crypto.Hash
		if i := strings.Index(line, ") = "); i > 0 && strings.Contains(line[:i], " (") {
			j := strings.Index(line, " (")
			tag := strings.ToUpper(line[:j])
			name, sum = line[j+2:i], strings.TrimSpace(line[i+4:])
			switch tag {
			case "SHA256":
				h = crypto.SHA256
			case "SHA512":
				h = crypto.SHA512
			case "SHA384":
				h = crypto.SHA384
			case "SHA1":
				h = crypto.SHA1
			case "MD5":
				h = crypto.MD5
			default:
				continue
			}
		} else {
			f := strings.IndexAny(line, " \t")
			if f <= 0 {
				continue
			}
			sum, name = line[:f], strings.TrimLeft(line[f:], " \t")
			name = strings.TrimPrefix(name, "*")
			switch len(sum) {
			case 32:
				h = crypto.MD5
			case 40:
				h = crypto.SHA1
			case 56:
				h = crypto.SHA224
			case 64:
				h = crypto.SHA256
			case 96:
				h = crypto.SHA384
			case 128:
				h = crypto.SHA512
			default:
				continue
			}
		}
		if _, err := hex.DecodeString(sum); err != nil || name == "" || len(sum) != 2*h.Size() {
			continue
		}
		out[path.Base(strings.ReplaceAll(name, `\`, "/"))] = manifestEntry{hash: h, sum: strings.ToLower(sum)}
	}
	return out
}

// readManifest reads a manifest file and keeps what its signature check needs: it is
// clear-signed, or has detached signatures beside it (SHA256SUMS.asc, .sig, .gpg, .p7s).
// The signature is checked per anchor set (sigFor), since images it lists may fall under
// different vendors.
func readManifest(c *classified, sigs map[string][]*classified, beside *keyring) *manifest {
	m := &manifest{name: c.f.Name, beside: beside, checked: map[*Anchors]*observe.UpdateSignature{}}
	data, err := readAll(c.f, MaxManifestSize)
	if err != nil {
		m.reason = "manifest not read: " + err.Error()
		return m
	}
	m.data = data
	if isClearSigned(data) {
		blk, _ := clearsign.Decode(data)
		if blk == nil {
			m.reason = "malformed clear-signed manifest"
			return m
		}
		m.entries = parseManifest(blk.Plaintext)
		m.clear = blk
		return m
	}
	m.entries = parseManifest(data)
	m.sigFiles = sigs[c.f.Name]
	return m
}

// signed says whether the manifest carries or has a signature.
func (m *manifest) signed() bool { return m.clear != nil || len(m.sigFiles) > 0 }

// sigFor checks the manifest's signature against one anchor set (cached).
func (m *manifest) sigFor(anchors *Anchors) *observe.UpdateSignature {
	if s, ok := m.checked[anchors]; ok {
		return s
	}
	var out *observe.UpdateSignature
	if m.clear != nil {
		s := observe.UpdateSignature{Kind: "openpgp-clearsign", File: m.name, Trust: TrustNotJudged}
		bin, err := io.ReadAll(io.LimitReader(m.clear.ArmoredSignature.Body, MaxSignatureSize))
		if err != nil {
			s.Reason = "clear-signed manifest's signature not read: " + err.Error()
		} else {
			s = checkOpenPGPBinary(s, bin, memOpener(m.clear.Bytes), anchors, m.beside)
		}
		out = &s
	}
	for _, sc := range m.sigFiles {
		f := &File{Name: m.name, Size: int64(len(m.data)), Open: memOpener(m.data)}
		s := examineDetached(f, sc, anchors, m.beside)
		if out == nil || s.Verifies && !out.Verifies {
			out = &s
		}
	}
	m.checked[anchors] = out
	return out
}

func memOpener(b []byte) func() (io.ReadSeekCloser, error) {
	return func() (io.ReadSeekCloser, error) { return nopCloser{bytes.NewReader(b)}, nil }
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

// check returns the manifest's word on one image: nothing when it does not list it or is
// unsigned and agrees; a failed check when its digest differs (tampering, or another
// file); otherwise its signature's verdict.
func (m *manifest) check(f *File, sha256hex string, anchors *Anchors) (observe.UpdateSignature, bool) {
	e, ok := m.entries[f.Name]
	if !ok && sha256hex != "" && strings.Contains(f.Name, "{id}") {
		// Images from the wire are named by their path template ("{id}.bin": a raw file
		// name may identify a patient), which no manifest lists; a SHA-256 line with the
		// image's own digest still vouches for these bytes (capture/updatekeep). Files
		// named as on disk are matched by name alone.
		for _, x := range m.entries {
			if x.hash == crypto.SHA256 && x.sum == sha256hex {
				e, ok = x, true
				break
			}
		}
	}
	if !ok {
		return observe.UpdateSignature{}, false
	}
	var s observe.UpdateSignature
	msig := m.sigFor(anchors)
	if msig != nil {
		s = *msig
		s.ManifestKind = s.Kind
		s.Weaknesses = append([]string(nil), s.Weaknesses...)
	} else {
		s = observe.UpdateSignature{Trust: TrustNotJudged}
	}
	s.Kind, s.File = "manifest", m.name
	if msig != nil && msig.File != "" {
		s.File = msig.File
	}
	sum := sha256hex
	if e.hash != crypto.SHA256 {
		d, err := streamDigest(f.Open, e.hash)
		if err != nil {
			s.Checked, s.Verifies, s.Reason = false, false, "image not read: "+err.Error()
			return s, true
		}
		sum = hex.EncodeToString(d)
	}
	if sum != e.sum {
		s.Checked, s.Verifies = true, false
		s.Reason = "the manifest lists another " + hashName(e.hash) + " for this image: modified, or not the file the manifest was made for"
		return s, true
	}
	if msig == nil {
		return s, false // an unsigned list that agrees proves nothing about the author
	}
	if e.hash == crypto.MD5 || e.hash == crypto.SHA1 {
		s.Weaknesses = uniqueSorted(append(s.Weaknesses, "manifest-"+hashName(e.hash)))
	}
	return s, true
}
