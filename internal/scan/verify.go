package scan

import (
	"context"
	"time"

	"github.com/medscan/medscan/codesign"
	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules"
	"github.com/medscan/medscan/store"
)

// VerifyOptions describe one run of medscan verify over update files.
type VerifyOptions struct {
	// Paths are update files and folders (walked recursively): images, detached
	// signatures, checksum manifests and OpenPGP keys, paired within each folder.
	Paths       []string
	Policy      *rules.Policy // nil means the default policy; its code_signing section gives the anchors
	Label       string
	Site        string // where the run is made (--site)
	ToolVersion string
	Clock       func() time.Time
}

// RunVerify examines update files for code signing (package codesign), judges them with
// the rules, and stores the result as a run of kind verify. A path that cannot be read
// is an error before anything is stored.
func RunVerify(ctx context.Context, st *store.Store, opt VerifyOptions) (Result, error) {
	clock := opt.Clock
	if clock == nil {
		clock = time.Now
	}
	pol := opt.Policy
	if pol == nil {
		pol = rules.DefaultPolicy()
	}
	started := clock()
	files, err := codesign.DiskFiles(opt.Paths, started.UTC())
	if err != nil {
		return Result{}, err
	}
	imgs, err := codesign.Examine(ctx, files, pol.CodeSigning, codesign.Options{Source: observe.SourceFile})
	if err != nil {
		return Result{}, err
	}
	set := observe.NewSet()
	for _, im := range imgs {
		set.AddUpdate(im)
	}
	return judgeAndStore(ctx, st, set, pol, nil, clock, findings.ScanInfo{Kind: findings.KindVerify,
		Started: started, Label: opt.Label, Site: opt.Site, Sources: sourceNames(opt.Paths), Complete: ctx.Err() == nil, ToolVersion: opt.ToolVersion}, false, nil)
}
