package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/netip"
	"os"
	"strconv"
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
	// excludeFilesNmap takes --excludefile, nmap's spelling; a flag of its own because
	// two string-array flags sharing one slice would each reset it on first use.
	excludeFilesNmap []string
	noDNS            bool
	listTargets      bool
	allowPartial     bool
}

func (a *activeFlags) register(fs *pflag.FlagSet) {
	fs.StringArrayVarP(&a.targetFiles, "target-file", "l", nil, "read targets from `FILE`, one per line (# comments; - for stdin); repeatable; -iL is accepted too")
	fs.StringArrayVar(&a.excludes, "exclude", nil, "never contact these `TARGETS` (addresses, CIDRs, ranges, octet patterns, names; comma-separated); repeatable")
	fs.StringArrayVar(&a.excludeFiles, "exclude-file", nil, "never contact the targets listed in `FILE`; repeatable")
	fs.StringArrayVar(&a.excludeFilesNmap, "excludefile", nil, "nmap's spelling of --exclude-file")
	_ = fs.MarkHidden("excludefile")
	fs.BoolVarP(&a.noDNS, "no-dns", "n", false, "never resolve host names: a name among the targets or exclusions is an error")
	fs.BoolVar(&a.listTargets, "list-targets", false, "print every address:port that would be probed, after exclusions and name resolution, and exit: nothing is contacted or stored")
	fs.StringVarP(&a.ports, "ports", "p", "", "TCP `PORTS` to probe, e.g. 443,2575,8443-8445 (default: the clinical TLS ports listed in the README)")
	fs.StringVar(&a.profile, "profile", string(probe.ProfileStandard), "how much to ask each service, a `PROFILE`: inventory, standard or thorough")
	fs.BoolVar(&a.medical, "probe-medical-devices", false, "also probe hosts classified as medical devices (skipped by default)")
	def := probe.DefaultConfig()
	fs.DurationVar(&a.pause, "pause", def.Pause, "pause `D` between two connections to the same host (0: none, for lab servers only, never a clinical network)")
	fs.Float64Var(&a.rate, "rate", def.Rate, "at most `N` new connections per second, across all hosts")
	fs.DurationVar(&a.connectTO, "connect-timeout", def.Timeouts.Connect, "give up connecting after `D`")
	fs.DurationVar(&a.handshakeTO, "handshake-timeout", def.Timeouts.Handshake, "give up on a handshake or service exchange after `D`")
	fs.IntVar(&a.maxConns, "max-conns-per-host", def.MaxConnsPerHost, "never open more than `N` connections to one host in a scan")
	fs.IntVar(&a.maxFailures, "max-failures", def.MaxFailures, "stop probing a host after `N` consecutive failed connections")
	fs.IntVar(&a.parallel, "parallel-hosts", def.Hosts, "probe `N` hosts at once (always one connection at a time per host)")
	fs.BoolVar(&a.noProgress, "no-progress", false, "do not show probing progress on stderr (it is shown only when stderr is a terminal)")
	fs.BoolVar(&a.allowPartial, "allow-partial", false, "exit as a complete scan would (0, or 3 on --fail-on) when the probe left targets or checks unassessed (all excluded, backed off, capped); the report still lists them")
}

// build turns the targets and flags into a scope and a prober configuration. It returns
// nil when no target was given. Every bad item is a usage error naming it; names that do
// not resolve are reported together, before any connection is made.
func (a *activeFlags) build(ctx context.Context, args []string, stdin io.Reader, stdinTaken bool,
	stderr io.Writer, quiet bool) (*scan.Probe, error) {
	items := probe.SplitTargetList(args)
	for _, it := range items {
		if err := fileArgument(it, false); err != nil {
			return nil, err
		}
	}
	targets, err := probe.ParseTargets(items)
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
		if a.listTargets {
			return nil, usageError{"scan: --list-targets lists the targets to probe, and none was given"}
		}
		return nil, nil
	}
	exclItems := probe.SplitTargetList(a.excludes)
	for _, it := range exclItems {
		if err := fileArgument(it, true); err != nil {
			return nil, err
		}
	}
	excl, err := probe.ParseTargets(exclItems)
	if err != nil {
		return nil, usageError{"scan: --exclude: " + err.Error()}
	}
	for _, f := range append(a.excludeFiles, a.excludeFilesNmap...) {
		ts, err := probe.ParseTargetFile(f)
		if err != nil {
			return nil, usageError{"scan: --exclude-file: " + err.Error()}
		}
		excl = append(excl, ts...)
	}
	for _, t := range excl {
		if t.Port != 0 {
			return nil, usageError{fmt.Sprintf("scan: exclusion %q names a port: an exclusion removes a whole host, so leave the port out", t.Text)}
		}
	}
	if a.noDNS {
		for _, t := range append(targets[:len(targets):len(targets)], excl...) {
			if t.IsName() {
				return nil, usageError{fmt.Sprintf("scan: %q is a host name, and -n/--no-dns forbids resolving it", t.Text)}
			}
		}
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

// listLimit is how many address:port pairs --list-targets writes one per line; above it
// the listing is one line per block of addresses, so it stays as long as the targets.
const listLimit = 65536

// list is the --list-targets dry run: what prb would contact, on stdout, and the count on
// stderr. It contacts nothing and opens no store; hosts that a scan would spare as medical
// devices are listed, since only the store and the captures know them.
func (a *activeFlags) list(prb *scan.Probe, withPcaps bool, stdout, stderr io.Writer, quiet bool) error {
	if withPcaps {
		return usageError{"scan: --list-targets lists the targets to probe; it reads no capture (leave out --pcap)"}
	}
	sum, err := prb.Scope.List(stdout, prb.Config.Ports, listLimit)
	if err != nil {
		return fmt.Errorf("scan: --list-targets: %w", err)
	}
	if !quiet {
		form := ""
		if sum.Compact {
			form = fmt.Sprintf(", listed by block (more than %d)", listLimit)
		}
		fmt.Fprintf(stderr, "medscan: %s address:port pairs on %s hosts would be probed%s; nothing was contacted or stored\n",
			count(sum.Endpoints), count(sum.Hosts), form)
	}
	return nil
}

// count writes a saturated count as what it is, a lower bound.
func count(n uint64) string {
	if n == math.MaxUint64 {
		return "at least " + strconv.FormatUint(n, 10)
	}
	return strconv.FormatUint(n, 10)
}

// fileArgument returns a usage error when an argument that is not an address names an
// existing file or directory, or reads as a file name (see looksLikePath): such an
// argument is a forgotten flag, never a host to look up in DNS nor a bad CIDR, and the
// error suggests the flag: --exclude-file for an exclusion; for a target, --pcap for a
// capture (by its first bytes, or its extension) and -l for a list of targets. It runs
// before any target is parsed or resolved. An item refused for a reason of its own (a URL,
// a port on a block) is left to that reason unless the file exists.
func fileArgument(item string, exclusion bool) error {
	ts, err := probe.ParseTargets([]string{item})
	if err == nil && !ts[0].IsName() {
		return nil
	}
	fi, serr := os.Stat(item)
	flag := "--pcap"
	switch {
	case exclusion:
		flag = "--exclude-file"
	case serr == nil && fi.IsDir():
	case !isCapture(item):
		flag = "-l"
	}
	switch {
	case serr == nil && fi.IsDir():
		return usageError{fmt.Sprintf("scan: %q is a directory; did you mean %s with the files in it?", item, flag)}
	case serr == nil:
		return usageError{fmt.Sprintf("scan: %q is a file; did you mean %s %s?", item, flag, item)}
	case looksLikePath(item) && (err == nil || errors.Is(err, probe.ErrInvalidCIDR) ||
		errors.Is(err, probe.ErrInvalidHostName) || errors.Is(err, probe.ErrInvalidAddress)):
		return usageError{fmt.Sprintf("scan: %q looks like a file name, not a target; did you mean %s %s?", item, flag, item)}
	}
	return nil
}

// captureExts and listExts are the extensions that make an argument a file name: no
// top-level domain is one of them.
var (
	captureExts = []string{".pcap", ".pcapng", ".cap", ".gz"}
	listExts    = []string{".txt", ".lst", ".list", ".csv"}
)

// looksLikePath reports whether an argument reads as a file name: it holds a path
// separator, which no host name has, or ends in one of captureExts or listExts.
func looksLikePath(item string) bool {
	return strings.ContainsAny(item, `/\`) || hasExt(item, captureExts) || hasExt(item, listExts)
}

func hasExt(item string, exts []string) bool {
	lower := strings.ToLower(item)
	for _, ext := range exts {
		if strings.HasSuffix(lower, ext) {
			return true
		}
	}
	return false
}

// isCapture reports whether path is a capture rather than a list of targets: by its first
// bytes when it can be read (pcap in either byte order and resolution, pcapng, gzip), by
// its extension otherwise.
func isCapture(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return hasExt(path, captureExts)
	}
	defer f.Close()
	var magic [4]byte
	if n, _ := io.ReadFull(f, magic[:]); n < 4 {
		return hasExt(path, captureExts)
	}
	switch string(magic[:]) {
	case "\xd4\xc3\xb2\xa1", "\xa1\xb2\xc3\xd4", "\x4d\x3c\xb2\xa1", "\xa1\xb2\x3c\x4d", "\x0a\x0d\x0d\x0a":
		return true
	}
	return magic[0] == 0x1f && magic[1] == 0x8b
}

// nmapArgs rewrites nmap's -iL FILE (and -iL=FILE, -iLFILE) to --target-file FILE, so that
// nmap users' habit works although a pflag shorthand is one letter. Arguments after "--"
// are left alone; so is a bare -iL at the end, for the parser to report it lacks a file.
func nmapArgs(args []string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return append(out, args[i:]...)
		case a == "-iL":
			out = append(out, "--target-file")
		case strings.HasPrefix(a, "-iL="):
			out = append(out, "--target-file="+a[len("-iL="):])
		case strings.HasPrefix(a, "-iL"):
			out = append(out, "--target-file="+a[len("-iL"):])
		default:
			out = append(out, a)
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
