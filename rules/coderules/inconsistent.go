package coderules

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules"
)

func init() { rules.Register(inconsistent{}) }

// inconsistent flags one image name (and version) served with different contents: to
// different devices, by different servers, or in different folders of a delivery. A
// vendor publishes one build per version; two are a targeted or a botched update.
type inconsistent struct{}

func (inconsistent) Meta() rules.Meta {
	return rules.Meta{
		ID:      "update-inconsistent",
		Owner:   findings.OwnerClinicalEngineering,
		Risk:    findings.RiskForgedUpdate,
		Covers:  covers,
		Title:   "One update image served with different contents",
		Default: findings.High,
		Rationale: "An image name and version is one build. Different bytes under it, handed to different " +
			"devices, are what a targeted attack looks like (a modified image pushed to some devices only), or " +
			"an update channel nobody controls; either way, devices of one model no longer run the same code.",
		Remediation: "Compare every variant's SHA-256 with the vendor's published one; withdraw the variants that " +
			"do not match, find out how they reached the server, and check which devices installed them (the " +
			"clients in the evidence).",
		References: references,
	}
}

func (inconsistent) Check(c *rules.Context) {
	type key struct{ name, version string }
	groups := map[key][]*observe.UpdateImage{}
	var keys []key
	for _, u := range c.Set.Updates {
		if u.Cut || u.SHA256 == "" {
			continue
		}
		k := key{u.Name, u.Version}
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], u)
	}
	slices.SortFunc(keys, func(a, b key) int { return cmp.Or(cmp.Compare(a.name, b.name), cmp.Compare(a.version, b.version)) })
	for _, k := range keys {
		g := groups[k]
		sums := map[string]bool{}
		for _, u := range g {
			sums[u.SHA256] = true
		}
		if len(sums) < 2 {
			continue
		}
		slices.SortFunc(g, func(a, b *observe.UpdateImage) int {
			return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.Origin, b.Origin), cmp.Compare(a.Dir, b.Dir), cmp.Compare(a.SHA256, b.SHA256))
		})
		var variants []map[string]any
		for _, u := range g {
			variants = append(variants, map[string]any{"sha256": u.SHA256, "origin": u.Origin, "dir": u.Dir,
				"size": u.Size, "verdict": u.Verdict, "clients": u.Clients})
		}
		f := base(g[0])
		f.Subject = "name:" + k.name + "@" + k.version
		f.Evidence["variants"] = variants
		f.Message = fmt.Sprintf("%s is served with %d different contents", where(g[0]), len(sums))
		if k.version != "" {
			f.Message = fmt.Sprintf("%s (version %s) is served with %d different contents", where(g[0]), k.version, len(sums))
		}
		c.Emit(f)
	}
}
