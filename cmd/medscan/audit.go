package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/user"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/medscan/medscan/report"
	"github.com/medscan/medscan/rules"
	"github.com/medscan/medscan/store"
)

func auditCommand(a *app) *cobra.Command {
	var (
		out    outputFlags
		db     storeFlag
		verify bool
		head   string
		akey   auditKeyFlag
	)
	c := &cobra.Command{
		Use:   "audit [--verify [--head HASH] [--audit-key-file FILE]] [flags]",
		Short: "list the runs that wrote the store, and check that none was edited or deleted",
		Long: `List every run that wrote the store (scan, live, lint), oldest first: when, who
ran it and on which machine, the command line with its secrets removed, medscan's
version, the SHA-256 of the policy file, and the scan it stored.

The records are chained by hash: each one's hash covers its content and the hash of
the record before it. --verify checks the chain and exits 1 when a record was edited
or deleted. Deleting the newest records leaves a shorter chain that is still whole;
keep the head (the last hash, printed below the list) somewhere the store's writers
cannot change, and give it to --head: the check then also fails when the chain no
longer reaches it.

Whoever can write the store can recompute the hashes after an edit. Runs given
--audit-key-file (an Ed25519 private key) also sign their record; --verify with
--audit-key-file (that key, or only its public half) then fails when a record's
signature does not verify, when a record after a signed one is unsigned, or when none
is signed: an edit, a deletion, or a chain cut and continued by someone without the
key. Records written before the key was in use are covered by the first signed one.
The key is never stored; docs/pki.md says how to make and keep it.`,
		Args: argsNone,
		RunE: func(c *cobra.Command, args []string) error {
			if err := out.check(c.Flags(), "audit"); err != nil {
				return err
			}
			if head != "" && !verify {
				return usageError{"audit: --head is a check: give --verify with it"}
			}
			if akey.file != "" && !verify {
				return usageError{"audit: --audit-key-file checks signatures: give --verify with it"}
			}
			if head != "" && !hexHash.MatchString(head) {
				return usageError{fmt.Sprintf("audit: --head %q: want the 64 hexadecimal digits of a record's hash", head)}
			}
			key, err := akey.load(false)
			if err != nil {
				return err
			}
			st, err := db.read()
			if err != nil {
				return err
			}
			defer st.Close()
			trail, err := st.AuditTrailKeyed(a.ctx, strings.ToLower(head), key)
			if err != nil {
				return err
			}
			check := trail.Check
			if !verify {
				trail.Check = nil
			}
			if err := write(&out, report.Audit, trail); err != nil {
				return err
			}
			if verify && !check.Intact {
				fmt.Fprintf(a.stderr, "medscan: audit: the trail of %s was tampered with: %d problem(s)\n", st.Path(), len(check.Problems))
				return codeError{exitError}
			}
			return nil
		},
	}
	fs := c.Flags()
	out.register(a, fs, report.Audit)
	db.register(fs)
	fs.BoolVar(&verify, "verify", false, "check the chain of records; exit 1 when one was edited or deleted")
	fs.StringVar(&head, "head", "", "with --verify, fail unless the chain reaches this `HASH` (a head kept elsewhere)")
	akey.register(fs, true)
	completeFlags(c, report.Audit)
	return c
}

var hexHash = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)

// recordRun appends this run to the store's audit trail, signed when key is not nil. A run whose record cannot be
// written says so on stderr and reports false: its scan is stored and rendered, but the
// command exits 1, since a run the trail does not account for is what the trail is for.
func (a *app) recordRun(ctx context.Context, st *store.Store, scanID int64, pol *rules.Policy, key *store.AuditKey) bool {
	run := store.Run{At: time.Now(), User: osUser(), Version: version, ScanID: scanID,
		Command: append([]string{"medscan"}, redactArgs(a.args)...), Key: key}
	run.Host, _ = os.Hostname()
	if pol != nil {
		run.Policy = pol.SHA256()
	}
	if _, err := st.RecordRun(ctx, run); err != nil {
		fmt.Fprintf(a.stderr, "medscan: scan %d is stored, but its run is not in the audit trail: %s\n", scanID, err)
		return false
	}
	return true
}

// osUser names who ran medscan: the login name, and the user who ran sudo, when sudo
// did (root alone would say nothing of who it was).
func osUser() string {
	name := "uid " + fmt.Sprint(os.Getuid())
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	if s := os.Getenv("SUDO_USER"); s != "" && s != name {
		name += " (sudo by " + s + ")"
	}
	return name
}

// secretFlag names flags whose value is a secret in itself; none of medscan's are today,
// but a wrapper may pass one, and a flag called --password never belongs in a record.
var secretFlag = regexp.MustCompile(`(?i)^--?[a-z0-9-]*(password|passwd|token|secret)[a-z0-9-]*$`)

// secretAssign matches a secret given as key=value inside a word: a libpq keyword DSN
// ("password=…"), or a URL's query (?password=…&sslpassword=…).
var secretAssign = regexp.MustCompile(`(?i)((?:password|passwd|token|secret)=)[^&\s]*`)

// redactArgs is a command line fit for the audit trail: the password of a database URL,
// secrets given as key=value, and the values of flags named for secrets are replaced
// by "REDACTED". Paths (the secret key file's, say) are kept: a path is not the secret.
func redactArgs(args []string) []string {
	out := make([]string, len(args))
	redactNext := false
	for i, arg := range args {
		if redactNext {
			out[i], redactNext = "REDACTED", false
			continue
		}
		name, value, hasValue := strings.Cut(arg, "=")
		if strings.HasPrefix(arg, "-") && secretFlag.MatchString(name) && !strings.HasSuffix(name, "-file") {
			if hasValue {
				out[i] = name + "=REDACTED"
			} else {
				out[i], redactNext = arg, true
			}
			continue
		}
		if hasValue && strings.HasPrefix(arg, "-") {
			out[i] = name + "=" + redactWord(value)
			continue
		}
		out[i] = redactWord(arg)
	}
	return out
}

// redactWord removes the secrets one word may hold: a URL's password, and key=value
// secrets.
func redactWord(w string) string {
	if strings.Contains(w, "://") {
		if u, err := url.Parse(w); err == nil && u.User != nil {
			if _, has := u.User.Password(); has {
				u.User = url.UserPassword(u.User.Username(), "REDACTED")
				w = u.String()
			}
		}
	}
	return secretAssign.ReplaceAllString(w, "${1}REDACTED")
}
