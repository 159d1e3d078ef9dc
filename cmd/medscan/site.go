package main

import (
	"context"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/medscan/medscan/store"
)

// maxSiteLen bounds a site name: it is shown in every message that names sites.
const maxSiteLen = 64

// siteValue is --site: a site's name, and whether one was given at all (typed, or from
// MEDSCAN_SITE or the configuration file), since "" is a site too: the scans of a
// sensor given none.
type siteValue struct {
	name string
	set  bool
}

func (v *siteValue) String() string { return v.name }
func (v *siteValue) Type() string   { return "string" }

// Set checks the name: letters, digits, '.', '_' and '-', so that it reads the same in
// a terminal, a file name and a SIEM's field.
func (v *siteValue) Set(s string) error {
	if len(s) > maxSiteLen {
		return fmt.Errorf("a site name is at most %d characters", maxSiteLen)
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return fmt.Errorf("%q: a site name holds letters, digits, '.', '_' and '-' only", s)
		}
	}
	v.name, v.set = s, true
	return nil
}

// registerSite adds --site to a command that stores a run: the site it is made at.
func registerSite(fs *pflag.FlagSet, v *siteValue) {
	fs.Var(v, "site", "record the run as made at site `NAME` (a hospital, a clinic): its history is that site's, "+
		"and keys and secrets are compared across every site of the store")
}

// registerSiteFilter adds --site to a command that reads the store: only that site's
// runs ("" for the runs made without one).
func registerSiteFilter(fs *pflag.FlagSet, v *siteValue) {
	fs.Var(v, "site", "only the runs of site `NAME` (latest is that site's latest)")
}

// resolve is store.ResolveScan, among the site's runs when --site was given.
func (v *siteValue) resolve(ctx context.Context, st *store.Store, ref, kind string) (int64, error) {
	if !v.set {
		return st.ResolveScan(ctx, ref, kind)
	}
	return st.ResolveSiteScan(ctx, ref, kind, v.name)
}
