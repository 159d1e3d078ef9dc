package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/medscan/medscan/internal/scan"
)

// verifyCommand examines update files a vendor delivered for code signing, and stores
// the result as a verify run.
func verifyCommand(a *app) *cobra.Command {
	var run runFlags
	c := &cobra.Command{
		Use:   "verify FILE|DIR… [flags]",
		Short: "check the signatures of update files (firmware, installers) a vendor delivered",
		Long: `Verify update images: files and folders of firmware and software updates, with the
signatures beside them (detached CMS/PKCS #7 or OpenPGP: NAME.sig, .asc, .p7s, .cms, .gpg),
signed checksum lists (SHA256SUMS with .asc/.sig, or clear-signed), Authenticode in PE and
UEFI images, and the signatures inside RAUC bundles, U-Boot FIT images (checked with the
keys of the policy's anchors: a PEM public key, a certificate or U-Boot's control DTB), APKs
(v1, v2, v3) and JARs. Each image is reported signed or not, verified or not, with who
signed it; the policy's code_signing anchors say whom to trust. The result is stored as a
verify run.`,
		Example: `  medscan verify vendor-delivery/
  medscan verify pump-2.1.bin pump-2.1.bin.sig --policy site.yaml
  medscan verify updates/ -f json --fail-on high`,
		RunE: func(c *cobra.Command, args []string) error {
			return runVerify(a, c.Flags(), args, &run)
		},
	}
	run.register(a, c.Flags(), "verify run")
	completeFlags(c, run.out.formats)
	return c
}

func runVerify(a *app, fs *pflag.FlagSet, paths []string, run *runFlags) error {
	ctx := a.ctx
	if err := run.check(fs, "verify"); err != nil {
		return err
	}
	if len(paths) == 0 {
		return usageError{"verify: nothing to verify: give update files or folders"}
	}
	in, st, err := run.openFiles(ctx, "verify", paths)
	if err != nil {
		return err
	}
	defer st.Close()
	res, err := scan.RunVerify(ctx, st, scan.VerifyOptions{Paths: paths, Policy: in.policy, Label: run.label,
		Site: run.site.name, ToolVersion: version})
	var notStored *scan.NotStoredError
	if err != nil && !errors.As(err, &notStored) {
		return err
	}
	const incomplete = "interrupted before every file was examined"
	if notStored != nil {
		return run.finishUnstored(res, err, in, incomplete)
	}
	return run.finish(ctx, st, res.ScanID, res.Report, res.Complete, in, fmt.Sprintf("%d update image(s), ", len(res.Set.Updates)), incomplete)
}
