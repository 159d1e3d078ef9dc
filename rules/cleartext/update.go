package cleartext

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules"
)

func init() { rules.Register(update{}) }

// MinImageBytes is the smallest response body cleartext-update reports: 64 KiB is below
// any firmware or installer worth the name and above the small binary blobs (icons,
// telemetry frames, application/octet-stream API answers) that devices exchange all day.
const MinImageBytes = 64 << 10

// update flags firmware and software images moved over plain HTTP, FTP or TFTP.
type update struct{}

func (update) Meta() rules.Meta {
	return rules.Meta{
		ID:      "cleartext-update",
		Covers:  findings.Coverage{Domain: findings.DomainCleartext, Needs: []findings.Evidence{findings.SeenImageTransfer}},
		Owner:   findings.OwnerDeviceMaker,
		Risk:    findings.RiskForgedUpdate,
		Title:   "Firmware or software fetched in clear",
		Default: findings.High,
		Rationale: "An image downloaded without TLS can be read and, by anyone on the path, replaced: unless " +
			"the device verifies a vendor signature before installing it, a tampered update runs with the " +
			"device's full privileges. The download also hands the firmware to anyone who wants to study it.",
		Remediation: "Fetch updates over HTTPS (or SFTP, never FTP or TFTP) with the server's identity verified, and have the device check " +
			"a vendor signature over the image before installing it; compare the SHA-256 in the evidence with " +
			"the vendor's published digest to confirm this copy was not altered.",
		References: []string{
			"FDA, Cybersecurity in Medical Devices: Premarket Submissions (2023), Appendix 1 (code, data and execution integrity)",
			"IEC 81001-5-1:2021, Health software and health IT systems safety, effectiveness and security (secure updates)",
			"NIST SP 800-193, Platform Firmware Resiliency Guidelines (authenticated update mechanism)",
			"NIST SP 800-147, BIOS Protection Guidelines (authenticated BIOS update)",
		},
	}
}

// wire is one image that crossed the network, whatever carried it.
type wire struct {
	protocol string // "http", "ftp", "tftp"
	server   observe.Endpoint
	client   string
	path     string
	url      string
	upload   bool
	status   int // HTTP only
	size     int64
	sha256   string
	kind     string
	// undecoded: the body came under a Content-Encoding and was not decoded, so sha256
	// and size are the encoded bytes'. wireSHA256 is the digest of the bytes on the wire
	// of a gzip body decoded, whose sha256 and size are then the image's.
	undecoded  bool
	wireSHA256 string
	partial    bool
	first      time.Time
	last       time.Time
	count      int
}

// images lists the transfers cleartext-update judges: 2xx HTTP response bodies and FTP or
// TFTP files identified as images and at least MinImageBytes long. Uploads count too: a
// management station pushing firmware to a device over FTP or TFTP hands the image to the
// path just as a download does, and the device installs whatever arrives.
//
// An HTTP body under Content-Encoding: gzip is named by the image it decodes to when the
// update keeper kept and decoded it (observe.UpdateImage.WireSHA256): its SHA-256 is then
// the one a vendor publishes, and the digest of the bytes on the wire is kept beside it.
func images(set *observe.Set) []wire {
	var out []wire
	var decoded map[string]*observe.UpdateImage // by the SHA-256 of the gzip stream
	for _, u := range set.Updates {
		if u.Cut {
			continue // the digest of a cut image matches nothing a vendor publishes
		}
		for _, w := range u.WireSHA256 {
			if decoded == nil {
				decoded = map[string]*observe.UpdateImage{}
			}
			decoded[w] = u
		}
	}
	for _, r := range set.HTTP {
		if r.BodyKind == "" || r.Status < 200 || r.Status > 299 || r.BodyBytes < MinImageBytes {
			continue
		}
		host := r.HostHeader
		if host == "" {
			host = r.Flow.Server.String()
		}
		w := wire{protocol: "http", server: r.Flow.Server, client: r.Flow.Client.Addr().Unmap().String(),
			path: r.Path, url: "http://" + host + r.Path, status: r.Status, size: r.BodyBytes, sha256: r.BodySHA256,
			kind: r.BodyKind, partial: r.BodyPartial, first: r.FirstSeen, last: r.LastSeen, count: r.Count}
		if r.BodyEncoded {
			if u := decoded[r.BodySHA256]; u != nil && r.BodySHA256 != "" {
				w.wireSHA256, w.sha256, w.size = r.BodySHA256, u.SHA256, u.Size
			} else {
				w.undecoded = true
			}
		}
		out = append(out, w)
	}
	for _, x := range set.Transfers {
		if x.Kind == "" || x.Bytes < MinImageBytes {
			continue
		}
		out = append(out, wire{protocol: x.Protocol, server: x.Flow.Server, client: x.Flow.Client.Addr().Unmap().String(),
			path: x.Path, url: x.URL, upload: x.Upload, size: x.Bytes, sha256: x.SHA256, kind: x.Kind,
			partial: x.Partial, first: x.FirstSeen, last: x.LastSeen, count: x.Count})
	}
	return out
}

// Check raises one finding per protocol, server endpoint, path and direction that carried
// at least one image (see images). The evidence names the URL (host and path, never query
// values), the protocol, what identified the image, its size and SHA-256; a partially
// captured image has no digest (a fragment's digest matches nothing a vendor publishes)
// and says so. Distinct images at one URL are all listed.
func (update) Check(c *rules.Context) {
	type key struct {
		protocol string
		server   observe.Endpoint
		path     string
		upload   bool
	}
	type image struct {
		sha256, kind string
		size         int64
		partial      bool
		undecoded    bool     // sha256 and size are the encoded bytes', not the image's
		wire         []string // the SHA-256 of each gzip transfer decoded to it, sorted
		seen         observe.Span
		clients      []string
		count        int
	}
	type agg struct {
		k        key
		url      string
		seen     observe.Span
		clients  []string
		statuses []int
		images   []*image
		count    int
	}
	groups := observe.NewIndex[key, *agg](0)
	for _, r := range images(c.Set) {
		k := key{r.protocol, r.server, r.path, r.upload}
		a, _, _ := groups.Add(k, func() *agg { return &agg{k: k, url: r.url} })
		a.seen.Add(r.first, r.last)
		a.clients = rules.AddSorted(a.clients, r.client)
		if r.status != 0 && !slices.Contains(a.statuses, r.status) {
			a.statuses = append(a.statuses, r.status)
			slices.Sort(a.statuses)
		}
		a.count += max(r.count, 1)
		// Partial images have no digest; they are told apart by what was seen.
		// An encoded body not decoded is told apart from the image itself: its digest is
		// the encoding's, not the image's.
		i := slices.IndexFunc(a.images, func(im *image) bool {
			return im.sha256 == r.sha256 && im.partial == r.partial && (!im.partial || im.size == r.size) &&
				im.undecoded == r.undecoded
		})
		if i < 0 {
			a.images = append(a.images, &image{sha256: r.sha256, kind: r.kind, size: r.size, partial: r.partial,
				undecoded: r.undecoded})
			i = len(a.images) - 1
		}
		im := a.images[i]
		if r.wireSHA256 != "" {
			im.wire = rules.AddSorted(im.wire, r.wireSHA256)
		}
		im.seen.Add(r.first)
		im.clients = rules.AddSorted(im.clients, r.client)
		im.count += max(r.count, 1)
	}
	for _, a := range groups.Sorted(func(x, y *agg) int {
		a, b := x.k, y.k
		return cmp.Or(a.server.Compare(b.server), cmp.Compare(a.path, b.path), cmp.Compare(a.protocol, b.protocol),
			findings.CompareBool(a.upload, b.upload))
	}) {
		k := a.k
		// Complete images first, then by when they were first seen: the first is the headline.
		slices.SortFunc(a.images, func(x, y *image) int {
			return cmp.Or(findings.CompareBool(x.partial, y.partial), x.seen.First.Compare(y.seen.First),
				cmp.Compare(x.sha256, y.sha256), cmp.Compare(x.size, y.size), findings.CompareBool(x.undecoded, y.undecoded))
		})
		images := make([]map[string]any, 0, len(a.images))
		for _, im := range a.images {
			e := map[string]any{"kind": im.kind, "size": im.size, "partial": im.partial, "clients": im.clients,
				"count": im.count}
			if im.sha256 != "" {
				e["sha256"] = im.sha256
			}
			encoding(e, im.undecoded, im.wire)
			images = append(images, e)
		}
		head := a.images[0]
		ev := map[string]any{
			"protocol":  k.protocol,
			"url":       a.url,
			"kind":      head.kind,
			"size":      head.size,
			"partial":   head.partial,
			"clients":   a.clients,
			"downloads": a.count,
			"images":    images,
		}
		if k.protocol == "http" {
			ev["status"] = a.statuses
		} else {
			ev["direction"] = "download"
			if k.upload {
				ev["direction"] = "upload"
				delete(ev, "downloads")
				ev["uploads"] = a.count
			}
		}
		what := fmt.Sprintf("%s, %d bytes, SHA-256 %s", head.kind, head.size, head.sha256)
		switch {
		case head.partial:
			what = fmt.Sprintf("%s, %d bytes seen, partially captured so no SHA-256", head.kind, head.size)
		case head.undecoded:
			what = fmt.Sprintf("%s, %d bytes content-encoded, SHA-256 of the encoded bytes %s", head.kind, head.size,
				head.sha256)
		case len(head.wire) > 0:
			what += " once decoded from gzip"
		}
		if !head.partial {
			ev["sha256"] = head.sha256
		}
		encoding(ev, head.undecoded, head.wire)
		if len(a.images) > 1 {
			what += fmt.Sprintf("; %d distinct images at this URL", len(a.images))
		}
		subject := k.path
		if subject == "" {
			subject = "(request not seen)"
		}
		if k.upload {
			subject += " (upload)" // a finding's identity is its subject: keep it apart from a download
		}
		host, port := rules.HostPort(k.server)
		var msg string
		switch {
		case k.protocol == "http":
			msg = fmt.Sprintf("%s served a firmware or software image over plain HTTP to %s: %s (%s)",
				k.server, joinOr(a.clients, "?"), a.url, what)
		case k.upload:
			msg = fmt.Sprintf("%s uploaded a firmware or software image over %s, in clear, to %s: %s (%s)",
				joinOr(a.clients, "?"), strings.ToUpper(k.protocol), k.server, a.url, what)
		default:
			msg = fmt.Sprintf("%s served a firmware or software image over %s, in clear, to %s: %s (%s)",
				k.server, strings.ToUpper(k.protocol), joinOr(a.clients, "?"), a.url, what)
		}
		c.Emit(rules.Observed(a.seen, findings.Finding{
			Host:     host,
			Port:     port,
			Subject:  subject,
			Message:  msg,
			Evidence: ev,
		}))
	}
}

// encoding notes in evidence e how an HTTP image crossed the wire when not as it is:
// "content_encoded" when its digest is of the encoded bytes (a coding medscan does not
// decode, or a body the update keeper did not keep), "wire_sha256" with the digest of each
// gzip transfer when sha256 is the decoded image's, the one to compare with a vendor's.
func encoding(e map[string]any, undecoded bool, wire []string) {
	if undecoded {
		e["content_encoded"] = true
	}
	if len(wire) > 0 {
		e["wire_sha256"] = wire
	}
}
