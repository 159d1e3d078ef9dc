package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/medscan/medscan/internal/scan"
	"github.com/medscan/medscan/store"
)

// liveFlags are scan's flags for a live capture (--iface and what shapes it).
type liveFlags struct {
	ifaces         []string
	duration       time.Duration
	packets        uint64
	bpf            string
	snaplen        int
	noPromisc      bool
	writePcap      string
	pcapMaxFile    string
	pcapMaxAge     time.Duration
	pcapMaxTotal   string
	commitInterval time.Duration
	workers        int
}

// liveFlagNames are the flags that only make sense with --iface.
var liveFlagNames = []string{"iface", "duration", "packets", "bpf", "snaplen", "no-promisc", "write-pcap",
	"pcap-max-file", "pcap-max-age", "pcap-max-total", "commit-interval", "workers"}

func (l *liveFlags) register(fs *pflag.FlagSet) {
	fs.StringArrayVar(&l.ifaces, "iface", nil, "capture live on interface `IF` (Linux, root or CAP_NET_RAW); repeatable")
	fs.DurationVar(&l.duration, "duration", 0, "stop a live capture after `D` (e.g. 2h; default: until SIGINT or SIGTERM)")
	fs.Uint64Var(&l.packets, "packets", 0, "stop a live capture after `N` frames, all interfaces together")
	fs.StringVar(&l.bpf, "bpf", "", "capture filter `EXPR` for a live capture (see docs/live-capture.md for the forms accepted)")
	fs.IntVar(&l.snaplen, "snaplen", scan.DefaultSnapLen, "bytes kept of each captured frame `N`")
	fs.BoolVar(&l.noPromisc, "no-promisc", false, "leave the interfaces out of promiscuous mode")
	fs.StringVar(&l.writePcap, "write-pcap", "", "keep the captured frames in pcap files in `DIR`, rotated")
	fs.StringVar(&l.pcapMaxFile, "pcap-max-file", "100MB", "start a new --write-pcap file past `SIZE`")
	fs.DurationVar(&l.pcapMaxAge, "pcap-max-age", time.Hour, "start a new --write-pcap file after `D`")
	fs.StringVar(&l.pcapMaxTotal, "pcap-max-total", "2GB", "remove the oldest --write-pcap files past `SIZE` in all")
	fs.DurationVar(&l.commitInterval, "commit-interval", scan.DefaultCommitInterval, "store what a live capture learned every `D`")
	fs.IntVar(&l.workers, "workers", 0, "decoding workers `N` for a live capture (default: one per CPU)")
}

// wanted reports whether any live-capture flag was given: scan then runs live (and
// says what is missing when --iface is not among them).
func (l *liveFlags) wanted(fs *pflag.FlagSet) bool {
	for _, n := range liveFlagNames {
		if fs.Changed(n) {
			return true
		}
	}
	return false
}

// options checks the flags and turns them into scan.LiveOptions; every error is the
// caller's (a usage error).
func (l *liveFlags) options(fs *pflag.FlagSet, pcaps []string) (scan.LiveOptions, error) {
	var opt scan.LiveOptions
	if len(l.ifaces) == 0 {
		for _, n := range liveFlagNames {
			if fs.Changed(n) {
				return opt, usageError{fmt.Sprintf("scan: --%s is for a live capture: give --iface IF", n)}
			}
		}
	}
	if len(pcaps) > 0 {
		return opt, usageError{"scan: --iface and --pcap cannot be combined: scan the capture files and the interfaces in two scans"}
	}
	for i, n := range l.ifaces {
		if n == "" || strings.ContainsAny(n, "/ \t") {
			return opt, usageError{fmt.Sprintf("scan: --iface %q is not an interface name", n)}
		}
		if slices.Contains(l.ifaces[:i], n) {
			return opt, usageError{fmt.Sprintf("scan: --iface %s given twice", n)}
		}
	}
	switch {
	case l.duration < 0:
		return opt, usageError{"scan: --duration must not be negative"}
	case l.snaplen < 64 || l.snaplen > scan.DefaultSnapLen:
		return opt, usageError{fmt.Sprintf("scan: --snaplen %d: give 64 to %d bytes", l.snaplen, scan.DefaultSnapLen)}
	case l.commitInterval < time.Second:
		return opt, usageError{fmt.Sprintf("scan: --commit-interval %s: give at least 1s", l.commitInterval)}
	case l.workers < 0 || l.workers > 256:
		return opt, usageError{fmt.Sprintf("scan: --workers %d: give 1 to 256 (0 for one per CPU)", l.workers)}
	case l.pcapMaxAge < 0:
		return opt, usageError{"scan: --pcap-max-age must not be negative"}
	}
	maxFile, err := parseSize(l.pcapMaxFile)
	if err != nil {
		return opt, usageError{"scan: --pcap-max-file: " + err.Error()}
	}
	maxTotal, err := parseSize(l.pcapMaxTotal)
	if err != nil {
		return opt, usageError{"scan: --pcap-max-total: " + err.Error()}
	}
	if l.writePcap == "" {
		for _, n := range []string{"pcap-max-file", "pcap-max-age", "pcap-max-total"} {
			if fs.Changed(n) {
				return opt, usageError{fmt.Sprintf("scan: --%s shapes --write-pcap: give --write-pcap DIR", n)}
			}
		}
	} else if maxTotal < maxFile {
		return opt, usageError{fmt.Sprintf("scan: --pcap-max-total %s is smaller than --pcap-max-file %s", l.pcapMaxTotal, l.pcapMaxFile)}
	}
	opt = scan.LiveOptions{Ifaces: l.ifaces, BPF: l.bpf, SnapLen: l.snaplen, NoPromisc: l.noPromisc,
		Duration: l.duration, Packets: l.packets, Workers: l.workers, CommitInterval: l.commitInterval,
		WritePcapDir: l.writePcap, PcapMaxFileBytes: maxFile, PcapMaxFileAge: l.pcapMaxAge, PcapMaxTotalBytes: maxTotal}
	return opt, nil
}

// sizeUnits are the suffixes parseSize accepts: SI (powers of 1000) and IEC (of 1024).
var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"K", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12}, {"B", 1},
}

// parseSize reads a byte count such as 100MB, 1.5GiB or 4096.
func parseSize(s string) (int64, error) {
	num, mult := strings.TrimSpace(s), int64(1)
	for _, u := range sizeUnits {
		if len(num) > len(u.suffix) && strings.EqualFold(num[len(num)-len(u.suffix):], u.suffix) {
			num, mult = strings.TrimSpace(num[:len(num)-len(u.suffix)]), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v <= 0 || math.IsInf(v, 0) || math.IsNaN(v) || v*float64(mult) >= math.MaxInt64 {
		return 0, fmt.Errorf("%q is not a size (e.g. 100MB, 2GB, 512MiB)", s)
	}
	return int64(v * float64(mult)), nil
}

// liveArgs is what scan hands to run besides the live flags.
type liveArgs struct {
	run     *runFlags
	pcaps   []string
	key     *secretKeyFlag
	updates scan.Updates
}

// run performs a live scan and renders it as scan renders a capture file's: through
// the output flags, the gate and the incomplete-input exit code.
func (l *liveFlags) run(ctx context.Context, fs *pflag.FlagSet, r liveArgs, stdout, stderr io.Writer) error {
	opt, err := l.options(fs, r.pcaps)
	if err != nil {
		return err
	}
	in, err := r.run.inputs(ctx, "scan")
	if err != nil {
		return err
	}
	keyFile, err := r.key.path()
	if err != nil {
		return err
	}
	st, err := store.OpenKeyed(r.run.db.path(), keyFile)
	if err != nil {
		return err
	}
	defer st.Close()
	opt.Policy, opt.Label, opt.Site, opt.ToolVersion, opt.KeyBlocklist = in.policy, r.run.label, r.run.site.name, version,
		in.blocklist
	opt.Updates = r.updates
	opt.SourceError = func(err error) { fmt.Fprintf(stderr, "medscan: %s\n", err) }
	var last scan.LiveStats
	opt.Progress = func(s scan.LiveStats) {
		last = s
		switch {
		case r.run.app.quiet:
		case s.Checkpoints == 0:
			// Said once the sockets are open: a test (or a user) may start traffic now.
			fmt.Fprintf(stderr, "medscan: capturing on %s; stop with Ctrl-C (SIGINT) or SIGTERM\n", strings.Join(opt.Ifaces, ", "))
		default:
			fmt.Fprintln(stderr, progressLine(s))
		}
	}
	res, err := scan.RunLive(ctx, st, opt)
	if err != nil {
		return err
	}
	// SIGINT and SIGTERM are how a live capture normally ends: the report of what was
	// stored is still rendered.
	return r.run.finish(context.WithoutCancel(ctx), st, res.ScanID, nil, res.Complete, in, fmt.Sprintf("%d packet(s), ", last.Packets),
		"the live capture is incomplete: an interface failed or packets could not be kept; what was captured is stored and reported")
}

// progressLine is what a live scan prints at each checkpoint.
func progressLine(s scan.LiveStats) string {
	return fmt.Sprintf("medscan: live: %s: checkpoint %d: %d packet(s), %d dropped by the kernel, %d by medscan; %d finding(s)",
		s.Elapsed.Round(time.Second), s.Checkpoints, s.Packets, s.KernelDropped, s.Dropped, s.Findings)
}
