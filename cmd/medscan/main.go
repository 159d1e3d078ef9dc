// Command medscan finds cleartext clinical traffic, weak TLS and weak certificates and keys
// on hospital networks, from captures, and keeps what it learns in SQLite.
//
// The command is a thin shell over the library packages: it parses flags, opens the
// store (package store), runs a scan (internal/scan) or loads one, hands the document to
// its writer (package report) and maps the outcome to an exit code: 0 clean, 1 error
// (including a scan that could not read every source), 2 usage, 3 findings at or above
// --fail-on (store.Gate). It renders nothing itself.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "0.1.0-dev"

// Exit codes; CI pipelines depend on them.
const (
	exitOK       = 0
	exitError    = 1
	exitUsage    = 2
	exitFindings = 3
)

// usageError marks errors that are the caller's (bad flags, unknown subcommand).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// codeError carries a non-zero exit code that is not an error message (the gate).
type codeError struct{ code int }

func (e codeError) Error() string { return fmt.Sprintf("exit %d", e.code) }

const topUsage = `medscan: network and certificate posture for clinical networks

Usage:
  medscan scan --pcap FILE [--pcap FILE…] [flags]   scan captures ("-" reads stdin)
  medscan scan TARGET… [-p PORTS] [flags]           probe TLS services gently (IPs, CIDRs, ranges, names; -l FILE)
  medscan scan --iface IF [--duration D] [flags]    watch a network segment live (AF_PACKET; root)
  medscan report [--scan latest|ID] [flags]         render a stored scan again (--kind lint: a lint run)
  medscan lint PATH… [--scan latest|ID] [flags]      lint certificate files (PEM, DER, PKCS #7) and stored certificates
  medscan scans [--label L] [--format json]         list the stored scans with their counts
  medscan inventory [--scan latest|ID] [--kind K]   list a stored scan's assets: kind, maker, reasons
  medscan diff [EARLIER] [LATER] [flags]            new, fixed, persisting and not-assessed findings
  medscan rules [--example-policy]                  list the rule catalog
  medscan version                                   print the version

Run 'medscan COMMAND --help' for a command's flags.
Exit codes: 0 clean, 1 error or incomplete scan, 2 usage, 3 findings at or above --fail-on
(with --fail-on-new, only new ones).
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is main without the process: the command's whole behaviour, given its arguments,
// standard streams and a context that signals cancel.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, topUsage)
		return exitUsage
	}
	var err error
	switch args[0] {
	case "scan":
		err = cmdScan(ctx, args[1:], stdin, stdout, stderr)
	case "report":
		err = cmdReport(ctx, args[1:], stdout, stderr)
	case "lint":
		err = cmdLint(ctx, args[1:], stdout, stderr)
	case "scans":
		err = cmdScans(ctx, args[1:], stdout, stderr)
	case "inventory":
		err = cmdInventory(ctx, args[1:], stdout, stderr)
	case "diff":
		err = cmdDiff(ctx, args[1:], stdout, stderr)
	case "rules":
		err = cmdRules(args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "medscan", version)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, topUsage)
	default:
		err = usageError{fmt.Sprintf("unknown command %q", args[0])}
	}
	return exitCode(err, stderr)
}

func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	var ce codeError
	if errors.As(err, &ce) {
		return ce.code
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "medscan: %s\n", ue.msg)
		fmt.Fprintln(stderr, "medscan: hint: run 'medscan --help' for usage")
		return exitUsage
	}
	fmt.Fprintf(stderr, "medscan: %s\n", err)
	return exitError
}
