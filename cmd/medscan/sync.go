package main

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/medscan/medscan/store"
)

const syncLong = `Copy every scan and lint run of one store (a site's sensor's SQLite file) into another
(the central store), with its site, label, times and identifier, its observations,
inventory, certificates and findings. Running it again adds nothing: a run is copied once,
by its identifier (the uid of "medscan scans -f json"); findings are kept once per
fingerprint in the destination, their first and last seen widened by the runs copied.
The source is only read. A sensor that cannot reach the central store keeps scanning
into its own file, and syncs later.`

// syncCommand copies the runs of one store into another (store.Sync).
func syncCommand(a *app) *cobra.Command {
	var (
		from, to string
		akey     auditKeyFlag
	)
	c := &cobra.Command{
		Use:   "sync --from FILE --to DEST [flags]",
		Short: "copy a site's stored scans into another store, once each",
		Long:  syncLong,
		Example: `  medscan sync --from /var/lib/medscan/site.db --to /srv/medscan/central.db
  MEDSCAN_TO=/srv/medscan/central.db medscan sync --from site.db`,
		Args: argsNone,
		RunE: func(c *cobra.Command, args []string) error {
			if from == "" || to == "" {
				return usageError{"sync: give the store to copy from (--from FILE) and the one to copy into (--to DEST)"}
			}
			if sameFile(from, to) {
				return usageError{fmt.Sprintf("sync: --from and --to are the same store (%s)", from)}
			}
			key, err := akey.load(true)
			if err != nil {
				return err
			}
			if _, err := os.Stat(from); err != nil {
				return fmt.Errorf("sync: --from %s: %w", from, errors.Unwrap(err))
			}
			src, err := (&storeFlag{db: from}).read()
			if err != nil {
				return err
			}
			defer src.Close()
			dst, err := store.Open(to)
			if err != nil {
				return redactedError(err, to)
			}
			defer dst.Close()
			res, err := dst.Sync(a.ctx, src)
			if err != nil {
				return redactedError(err, to)
			}
			// The copy is a run that wrote the central store: its audit trail says who
			// brought the site's scans in (the scans keep their own runs' records at
			// the site).
			if !a.recordRun(a.ctx, dst, 0, nil, key) {
				return codeError{exitError}
			}
			_, err = fmt.Fprintf(a.stdout, "%d run(s) copied from %s to %s; %d already there\n", res.Copied, from,
				redactDSN(to), res.Present)
			return err
		},
	}
	fs := c.Flags()
	fs.StringVar(&from, "from", "", "the store `FILE` to copy from (a site sensor's SQLite file); only read")
	fs.StringVar(&to, "to", "", "the store `DEST` to copy into (a SQLite file, created when absent)")
	akey.register(fs, false)
	return c
}

// sameFile reports whether two store paths name one file (as far as can be told
// without opening them), so that a store is never synced into itself.
func sameFile(a, b string) bool {
	if strings.Contains(a, "://") || strings.Contains(b, "://") {
		return a == b
	}
	x, errA := filepath.Abs(a)
	y, errB := filepath.Abs(b)
	return errA == nil && errB == nil && x == y
}

// redactedError is err with the store address dest written as redactDSN writes it, so
// that a password in a postgres:// address never reaches stderr.
func redactedError(err error, dest string) error {
	safe := redactDSN(dest)
	if safe == dest {
		return err
	}
	msg := strings.ReplaceAll(err.Error(), dest, safe)
	// The address may come back rewritten (a path cleaned): the password alone goes too.
	if u, perr := url.Parse(dest); perr == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			msg = strings.ReplaceAll(msg, pw, "xxxxx")
		}
	}
	return errors.New(msg)
}

// redactDSN hides a password a store address may carry (postgres://user:secret@host/db),
// so that it never reaches the output.
func redactDSN(dest string) string {
	if !strings.Contains(dest, "://") {
		return dest
	}
	u, err := url.Parse(dest)
	if err != nil {
		return "(a store address)"
	}
	return u.Redacted()
}
