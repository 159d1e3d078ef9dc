package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/medscan/medscan/internal/scan"
	"github.com/medscan/medscan/probe"
)

// activeFlags are the flags of `medscan scan` that name what to probe and how gently.
// Targets themselves are the command's arguments.
type activeFlags struct {
	targetFiles  []string
	excludes     []string
	excludeFiles []string
	ports        string
	profile      string
	medical      bool
	pause        time.Duration
	rate         float64
	connectTO    time.Duration
	handshakeTO  time.Duration
	maxConns     int
	maxFailures  int
	parallel     int
	noProgress   bool
}

func (a *activeFlags) register(fs *pflag.FlagSet) {
	fs.StringArrayVarP(&a.targetFiles, "target-file", "l", nil, "read targets from `FILE`, one per line (# comments; - for stdin); repeatable")
	fs.StringArrayVar(&a.excludes, "exclude", nil, "never contact these `TARGETS` (addresses, CIDRs, ranges, names; comma-separated); repeatable")
	fs.StringArrayVar(&a.excludeFiles, "exclude-file", nil, "never contact the targets listed in `FILE`; repeatable")
	fs.StringVarP(&a.ports, "ports", "p", "", "TCP `PORTS` to probe, e.g. 443,2575,8443-8445 (default: the clinical TLS ports listed in the README)")
	fs.StringVar(&a.profile, "profile", string(probe.ProfileStandard), "how much to ask each service: inventory, standard or thorough")
	fs.BoolVar(&a.medical, "probe-medical-devices", false, "also probe hosts classified as medical devices (skipped by default)")
	def := probe.DefaultConfig()
	fs.DurationVar(&a.pause, "pause", def.Pause, "pause between two connections to the same host (0: none, for lab servers only, never a clinical network)")
	fs.Float64Var(&a.rate, "rate", def.Rate, "at most this many new connections per second, across all hosts")
	fs.DurationVar(&a.connectTO, "connect-timeout", def.Timeouts.Connect, "give up connecting after this long")
	fs.DurationVar(&a.handshakeTO, "handshake-timeout", def.Timeouts.Handshake, "give up on a handshake or service exchange after this long")
	fs.IntVar(&a.maxConns, "max-conns-per-host", def.MaxConnsPerHost, "never open more connections than this to one host in a scan")
	fs.IntVar(&a.maxFailures, "max-failures", def.MaxFailures, "stop probing a host after this many consecutive failed connections")
	fs.IntVar(&a.parallel, "parallel-hosts", def.Hosts, "probe this many hosts at once (always one connection at a time per host)")
	fs.BoolVar(&a.noProgress, "no-progress", false, "do not show probing progress on stderr (it is shown only when stderr is a terminal)")
}

// build turns the targets and flags into a scope and a prober configuration. It returns
// nil when no target was given. Every bad item is a usage error naming it; names that do
// not resolve are reported together, before any connection is made.
func (a *activeFlags) build(ctx context.Context, args []string, stdin io.Reader, stdinTaken bool,
	stderr io.Writer, quiet bool) (*scan.Probe, error) {
	targets, err := probe.ParseTargets(splitItems(args))
	if err != nil {
		return nil, usageError{"scan: " + err.Error()}
	}
	for _, f := range a.targetFiles {
		ts, err := readTargetFile(f, stdin, &stdinTaken)
		if err != nil {
			return nil, err
		}
		targets = append(targets, ts...)
	}
	if len(targets) == 0 {
		if len(a.targetFiles) > 0 {
			return nil, usageError{"scan: the target files name no targets"}
		}
		return nil, nil
	}
	excl, err := probe.ParseTargets(splitItems(a.excludes))
	if err != nil {
		return nil, usageError{"scan: --exclude: " + err.Error()}
	}
	for _, f := range a.excludeFiles {
		ts, err := probe.ParseTargetFile(f)
		if err != nil {
			return nil, usageError{"scan: --exclude-file: " + err.Error()}
		}
		excl = append(excl, ts...)
	}
	cfg := probe.DefaultConfig()
	if a.ports != "" {
		if cfg.Ports, err = probe.ParsePorts(a.ports); err != nil {
			return nil, usageError{"scan: --ports: " + err.Error()}
		}
	}
	if cfg.Profile, err = probe.ParseProfile(a.profile); err != nil {
		return nil, usageError{"scan: --profile: " + err.Error()}
	}
	switch {
	case a.pause < 0:
		return nil, usageError{"scan: --pause must not be negative"}
	case a.rate <= 0:
		return nil, usageError{"scan: --rate must be above 0"}
	case a.connectTO <= 0 || a.handshakeTO <= 0:
		return nil, usageError{"scan: timeouts must be above 0"}
	case a.maxConns < 1 || a.maxFailures < 1 || a.parallel < 1:
		return nil, usageError{"scan: --max-conns-per-host, --max-failures and --parallel-hosts must be at least 1"}
	}
	cfg.Pause, cfg.Rate, cfg.MaxConnsPerHost, cfg.MaxFailures, cfg.Hosts = a.pause, a.rate, a.maxConns, a.maxFailures, a.parallel
	if a.pause == 0 {
		cfg.Pause = -1 // the user asked for no pause; in Config zero means the default
	}
	cfg.Timeouts = probe.Timeouts{Connect: a.connectTO, Handshake: a.handshakeTO}
	scope := probe.NewScope(targets, excl)
	if len(scope.Names()) > 0 || hasNames(excl) {
		r := net.DefaultResolver
		lookup := func(ctx context.Context, name string) ([]netip.Addr, error) {
			ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			return r.LookupNetIP(ctx, "ip", name)
		}
		if err := scope.Resolve(ctx, lookup); err != nil {
			return nil, usageError{"scan: " + strings.ReplaceAll(err.Error(), "\n", "; ")}
		}
	}
	if err := scope.Err(); err != nil {
		return nil, usageError{"scan: " + err.Error()}
	}
	if !a.noProgress && !quiet && isTerminal(stderr) {
		cfg.Progress = func(p probe.Progress) {
			fmt.Fprintf(stderr, "\r\033[K%s", probe.ProgressLine(p))
			if p.Done {
				fmt.Fprintln(stderr)
			}
		}
	}
	texts := make([]string, 0, len(targets))
	for _, t := range targets {
		texts = append(texts, t.Text)
	}
	return &scan.Probe{Scope: scope, Config: cfg, Targets: texts, ProbeMedicalDevices: a.medical}, nil
}

// splitItems accepts targets separated by commas as well as by spaces.
func splitItems(in []string) []string {
	var out []string
	for _, s := range in {
		for f := range strings.SplitSeq(s, ",") {
			if f = strings.TrimSpace(f); f != "" {
				out = append(out, f)
			}
		}
	}
	return out
}

func hasNames(ts []probe.Target) bool {
	for _, t := range ts {
		if t.IsName() {
			return true
		}
	}
	return false
}

// readTargetFile reads one --target-file, "-" meaning standard input (once).
func readTargetFile(path string, stdin io.Reader, stdinTaken *bool) ([]probe.Target, error) {
	if path != "-" {
		ts, err := probe.ParseTargetFile(path)
		if err != nil {
			var te *probe.TargetError
			if errors.As(err, &te) {
				return nil, usageError{"scan: " + err.Error()}
			}
			return nil, fmt.Errorf("scan: %w", err)
		}
		return ts, nil
	}
	if *stdinTaken {
		return nil, usageError{"scan: standard input (-) can be read only once"}
	}
	*stdinTaken = true
	var items []string
	sc := bufio.NewScanner(stdin)
	line := 0
	for sc.Scan() {
		line++
		text, _, _ := strings.Cut(sc.Text(), "#")
		for _, it := range strings.Fields(text) {
			ts, err := probe.ParseTargets([]string{it})
			if err != nil {
				return nil, usageError{fmt.Sprintf("scan: standard input:%d: %v", line, err)}
			}
			items = append(items, ts[0].Text)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("scan: reading targets from standard input: %w", err)
	}
	ts, err := probe.ParseTargets(items)
	if err != nil {
		return nil, usageError{"scan: " + err.Error()}
	}
	return ts, nil
}

// isTerminal is true when w is a terminal (progress redraws a line; in a log it is noise).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
