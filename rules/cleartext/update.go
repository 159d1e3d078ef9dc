package cleartext

import (
	"cmp"
	"fmt"
	"slices"
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

// update flags firmware and software images downloaded over plain HTTP.
type update struct{}

func (update) Meta() rules.Meta {
	return rules.Meta{
		ID:      "cleartext-update",
		Title:   "Firmware or software fetched in clear",
		Default: findings.High,
		Rationale: "An image downloaded without TLS can be read and, by anyone on the path, replaced: unless " +
			"the device verifies a vendor signature before installing it, a tampered update runs with the " +
			"device's full privileges. The download also hands the firmware to anyone who wants to study it.",
		Remediation: "Fetch updates over HTTPS with the server's certificate verified, and have the device check " +
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

// Check raises one finding per server endpoint and path that delivered at least one 2xx
// response body identified as an image and at least MinImageBytes long. The evidence
// names the URL (host and path, never query values), what identified the image, its size
// and SHA-256; a partially captured body has no digest (a fragment's digest matches
// nothing a vendor publishes) and says so. Distinct images at one URL are all listed.
func (update) Check(c *rules.Context) {
	type key struct {
		server observe.Endpoint
		path   string
	}
	type image struct {
		sha256, kind string
		size         int64
		partial      bool
		first        time.Time
		clients      []string
		count        int
	}
	type agg struct {
		k           key
		url         string
		first, last time.Time
		clients     []string
		statuses    []int
		images      []*image
		count       int
	}
	idx := map[key]*agg{}
	var order []key
	for _, r := range c.Set.HTTP {
		if r.BodyKind == "" || r.Status < 200 || r.Status > 299 || r.BodyBytes < MinImageBytes {
			continue
		}
		k := key{r.Flow.Server, r.Path}
		a := idx[k]
		if a == nil {
			host := r.Host
			if host == "" {
				host = r.Flow.Server.String()
			}
			a = &agg{k: k, url: "http://" + host + r.Path, first: r.FirstSeen, last: r.LastSeen}
			idx[k] = a
			order = append(order, k)
		}
		a.first = minTime(a.first, r.FirstSeen)
		a.last = maxTime(a.last, r.LastSeen)
		client := r.Flow.Client.Addr().Unmap().String()
		a.clients = rules.AddSorted(a.clients, client)
		if !slices.Contains(a.statuses, r.Status) {
			a.statuses = append(a.statuses, r.Status)
			slices.Sort(a.statuses)
		}
		a.count += max(r.Count, 1)
		// Partial bodies have no digest; they are told apart by what was seen.
		i := slices.IndexFunc(a.images, func(im *image) bool {
			return im.sha256 == r.BodySHA256 && im.partial == r.BodyPartial && (!im.partial || im.size == r.BodyBytes)
		})
		if i < 0 {
			a.images = append(a.images, &image{sha256: r.BodySHA256, kind: r.BodyKind, size: r.BodyBytes,
				partial: r.BodyPartial, first: r.FirstSeen})
			i = len(a.images) - 1
		}
		im := a.images[i]
		im.first = minTime(im.first, r.FirstSeen)
		im.clients = rules.AddSorted(im.clients, client)
		im.count += max(r.Count, 1)
	}
	slices.SortFunc(order, func(a, b key) int {
		return cmp.Or(a.server.Compare(b.server), cmp.Compare(a.path, b.path))
	})
	for _, k := range order {
		a := idx[k]
		// Complete images first, then by when they were first seen: the first is the headline.
		slices.SortFunc(a.images, func(x, y *image) int {
			if x.partial != y.partial {
				if x.partial {
					return 1
				}
				return -1
			}
			return cmp.Or(x.first.Compare(y.first), cmp.Compare(x.sha256, y.sha256), cmp.Compare(x.size, y.size))
		})
		images := make([]map[string]any, 0, len(a.images))
		for _, im := range a.images {
			e := map[string]any{"kind": im.kind, "size": im.size, "partial": im.partial, "clients": im.clients,
				"count": im.count}
			if im.sha256 != "" {
				e["sha256"] = im.sha256
			}
			images = append(images, e)
		}
		head := a.images[0]
		ev := map[string]any{
			"protocol":    "http",
			"url":         a.url,
			"kind":        head.kind,
			"size":        head.size,
			"partial":     head.partial,
			"status":      a.statuses,
			"clients":     a.clients,
			"downloads":   a.count,
			"images":      images,
			"observed_at": rules.TimeString(a.first),
			"first_seen":  rules.TimeString(a.first),
			"last_seen":   rules.TimeString(a.last),
		}
		what := fmt.Sprintf("%s, %d bytes, SHA-256 %s", head.kind, head.size, head.sha256)
		if head.partial {
			what = fmt.Sprintf("%s, %d bytes seen, partially captured so no SHA-256", head.kind, head.size)
		} else {
			ev["sha256"] = head.sha256
		}
		if len(a.images) > 1 {
			what += fmt.Sprintf("; %d distinct images at this URL", len(a.images))
		}
		subject := k.path
		if subject == "" {
			subject = "(request not seen)"
		}
		host, port := rules.HostPort(k.server)
		c.Emit(findings.Finding{
			Host:    host,
			Port:    port,
			Subject: subject,
			Message: fmt.Sprintf("%s served a firmware or software image over plain HTTP to %s: %s (%s)",
				k.server, joinOr(a.clients, "?"), a.url, what),
			Evidence:  ev,
			Time:      a.first,
			FirstSeen: a.first,
			LastSeen:  a.last,
		})
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
