package main

import (
	"github.com/spf13/pflag"

	"github.com/medscan/medscan/internal/scan"
)

// updateFlags are scan's flags for the update images it sees on the wire: how much of
// each is kept for the code-signing examination, and where to save them.
type updateFlags struct {
	maxSize string
	saveDir string
}

func (u *updateFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&u.maxSize, "max-update-size", "512MiB",
		"keep at most `SIZE` of each update image seen on the wire, to check its signature (0: keep none, check none); a longer image is cut and counted")
	fs.StringVar(&u.saveDir, "save-updates", "",
		"write the update images seen, and the signatures and manifests beside them, into `DIR` (folders 0700, files 0600, never overwriting)")
}

// options checks the flags, before any work, and returns what the scan does with
// update images.
func (u *updateFlags) options() (scan.Updates, error) {
	var opt scan.Updates
	if u.maxSize != "0" {
		n, err := parseSize(u.maxSize)
		if err != nil {
			return opt, usageError{"scan: --max-update-size: " + err.Error()}
		}
		opt.MaxSize = n
	}
	if u.saveDir != "" && opt.MaxSize == 0 {
		return opt, usageError{"scan: --save-updates needs images kept: --max-update-size 0 keeps none"}
	}
	opt.SaveDir = u.saveDir
	return opt, nil
}
