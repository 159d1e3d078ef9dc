package scan

import (
	"context"
	"crypto/sha256"
	"fmt"

	"github.com/medscan/medscan/capture/updatekeep"
	"github.com/medscan/medscan/codesign"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules/cleartext"
)

// Updates says what a passive scan does with the update images it sees: keep their
// bytes (and the signatures beside them) while the capture is read, bounded by MaxSize,
// examine them for code signing (package codesign) at the end (and, in a live scan, at
// each checkpoint when the kept images changed), and save them in SaveDir
// when asked. The kept bytes are deleted when the scan ends.
type Updates struct {
	// MaxSize is --max-update-size: the bytes of one image kept; the rest is hashed and
	// counted, not kept. Zero or less keeps nothing, and examines nothing.
	MaxSize int64
	// SaveDir is --save-updates: where the kept images and signatures are written (mode
	// 0700 folders, 0600 files, never overwriting); "" writes nothing.
	SaveDir string
	// TempDir is the parent of the private folder the bytes spill to; os.TempDir()
	// when "".
	TempDir string
}

// keeper returns the keeper of one scan, nil when nothing is to be kept.
func (u Updates) keeper() *updatekeep.Keeper {
	if u.MaxSize <= 0 {
		return nil
	}
	return updatekeep.Register(updatekeep.New(updatekeep.Options{MaxImage: u.MaxSize,
		MinImage: cleartext.MinImageBytes, TempDir: u.TempDir}))
}

// finishUpdates examines what the keeper kept under the policy's code_signing section
// (nil: signers are reported, not judged), records the images in the set in place of
// any a live checkpoint recorded, saves the files when asked, and adds the keeper's
// counters. A failure to save or to examine is a problem of the scan (the rest of it
// stands), not an error of it.
func finishUpdates(ctx context.Context, k *updatekeep.Keeper, u Updates, pol *codesign.Policy, set *observe.Set) {
	if k == nil {
		return
	}
	files := k.Files()
	if u.SaveDir != "" && len(files) > 0 {
		if _, err := updatekeep.Save(u.SaveDir, files); err != nil {
			set.Problem(observe.Problem{Source: u.SaveDir, Offset: -1, Message: err.Error()})
		}
	}
	examineUpdates(ctx, files, pol, set)
	for _, c := range k.Counters() {
		set.AddCounter(c.Name, c.Value)
	}
}

// examineUpdates examines kept files and makes the images the set's update images.
func examineUpdates(ctx context.Context, files []updatekeep.File, pol *codesign.Policy, set *observe.Set) {
	in := make([]codesign.File, len(files))
	for i, f := range files {
		in[i] = codesign.File{Name: f.Name, Dir: f.Dir, Origin: f.Origin, Size: f.Size, SHA256: f.SHA256, Cut: f.Cut,
			Open: f.Open, Clients: f.Clients, WireSHA256: f.WireSHA256, Time: f.Time, RawName: f.RawName}
	}
	imgs, err := codesign.Examine(context.WithoutCancel(ctx), in, pol, codesign.Options{Source: observe.SourcePassive})
	if err != nil {
		set.Problem(observe.Problem{Source: "updates", Offset: -1,
			Message: fmt.Sprintf("update images not examined: %v", err)})
	}
	set.ReplaceUpdates(imgs)
}

// keptState sums up what a keeper holds (each file's place, contents and devices), so
// that a live checkpoint examines the images again only when something changed.
func keptState(files []updatekeep.File) [sha256.Size]byte {
	h := sha256.New()
	for _, f := range files {
		fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%d\x00%t\x00%q\n", f.Origin, f.Dir, f.Name, f.SHA256, f.Size, f.Cut, f.Clients)
	}
	return [sha256.Size]byte(h.Sum(nil))
}
