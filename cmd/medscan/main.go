// Command medscan finds cleartext clinical traffic, weak TLS and weak certificates and keys
// on hospital networks, from captures, and keeps what it learns in SQLite.
//
// The command is a thin shell over the library packages: it parses flags (cli.go: one
// cobra definition of every command and flag, from which help, completions, man pages
// and docs/cli.md are generated), opens the store (package store), runs a scan
// (internal/scan) or loads one, hands the document to its writer (package report) and
// maps the outcome to an exit code: 0 clean, 1 error (including a scan that could not
// read every source), 2 usage, 3 findings at or above --fail-on (store.Gate). It renders
// nothing itself.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"runtime/trace"
	"strings"
	"syscall"

	"github.com/medscan/medscan/capture/updatekeep"
)

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

func main() {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go onSignals(sigs, cancel)
	stop := startCPUProfile(os.Getenv("MEDSCAN_CPUPROFILE"), os.Stderr)
	stopTrace := startTrace(os.Getenv("MEDSCAN_TRACE"), os.Stderr)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stopTrace()
	stop()
	os.Exit(code)
}

// startCPUProfile writes a CPU profile of the whole command to path when it is set
// (MEDSCAN_CPUPROFILE, for docs/performance.md's measurements of the built binary, which
// spends time outside what the library benchmarks reach: flags, the store's opening and
// the writers). It returns the function that ends the profile.
func startCPUProfile(path string, stderr io.Writer) func() {
	return record("MEDSCAN_CPUPROFILE", path, stderr, pprof.StartCPUProfile, pprof.StopCPUProfile)
}

// startTrace writes an execution trace of the whole command to path when it is set
// (MEDSCAN_TRACE): where the cores wait for each other, which a CPU profile cannot show
// (`go tool trace FILE`, or `go tool trace -pprof=sync FILE` for the blocking). The
// scan's stages are marked as trace regions (internal/scan). It returns the function
// that ends the trace.
func startTrace(path string, stderr io.Writer) func() {
	return record("MEDSCAN_TRACE", path, stderr, trace.Start, trace.Stop)
}

// record runs start on a new file at path when path is set (named by the variable env
// in an error, which is said and otherwise ignored: a measurement must not stop the
// command), and returns the function that stops it and closes the file.
func record(env, path string, stderr io.Writer, start func(io.Writer) error, stop func()) func() {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		if err = start(f); err != nil {
			f.Close()
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "medscan: %s %s: %v\n", env, path, err)
		return func() {}
	}
	return func() {
		stop()
		f.Close()
	}
}

// onSignals turns the first SIGINT or SIGTERM into the cancellation of the command's
// context, its cause naming the signal: a scan stops reading, stores what it learned as
// incomplete, reports it and exits 1. A second signal exits at once, 130 or 143 as a
// shell reports a process killed by it, so that a user's second Ctrl-C or a supervisor's
// second TERM never waits for the store.
func onSignals(sigs <-chan os.Signal, cancel context.CancelCauseFunc) {
	first := <-sigs
	cancel(fmt.Errorf("%s received", signalName(first)))
	second := <-sigs
	updatekeep.CloseAll() // the update images kept so far are not left in the temporary folder
	code := exitError
	if s, ok := second.(syscall.Signal); ok {
		code = 128 + int(s)
	}
	os.Exit(code)
}

// signalName is a signal's name as kill(1) spells it.
func signalName(s os.Signal) string {
	switch s {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}

// run is main without the process: the command's whole behaviour, given its arguments,
// standard streams and a context that signals cancel.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr, args: args}
	root := newRoot(a)
	root.SetArgs(nmapArgs(args)) // nmap's -iL FILE, which no one-letter flag can spell
	cmd, err := root.ExecuteContextC(ctx)
	return exitCode(err, cmd, stderr)
}

// exitCode prints err once and maps it to the exit code; a usage error points at the
// help of the command it concerns.
func exitCode(err error, cmd interface{ CommandPath() string }, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	var ce codeError
	if errors.As(err, &ce) {
		return ce.code
	}
	var ue usageError
	if errors.As(err, &ue) || cobraUsage(err, &ue) {
		fmt.Fprintf(stderr, "medscan: %s\n", ue.msg)
		path := "medscan"
		if cmd != nil {
			path = cmd.CommandPath()
		}
		fmt.Fprintf(stderr, "medscan: hint: run '%s --help' for usage\n", path)
		return exitUsage
	}
	fmt.Fprintf(stderr, "medscan: %s\n", err)
	return exitError
}

// cobraUsage recognises cobra's own usage errors (an unknown command) and puts them in
// medscan's one-line shape, with cobra's suggestion: `unknown command "scna" (did you
// mean scan?)`.
func cobraUsage(err error, ue *usageError) bool {
	msg := err.Error()
	if !strings.HasPrefix(msg, "unknown command ") {
		return false
	}
	first, rest, _ := strings.Cut(msg, "\n")
	first, _, _ = strings.Cut(first, " for ")
	var suggestions []string
	for _, line := range strings.Split(rest, "\n") {
		if strings.HasPrefix(line, "\t") {
			suggestions = append(suggestions, strings.TrimSpace(line))
		}
	}
	if len(suggestions) > 0 {
		first += " (did you mean " + strings.Join(suggestions, " or ") + "?)"
	}
	*ue = usageError{msg: first}
	return true
}
