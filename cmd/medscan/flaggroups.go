package main

import (
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// flagGroups sorts a command's flags under headings in its help, in this order: a scan
// has some fifty flags, and a reader looks for the ones of one task at a time.
var flagGroups = []struct {
	heading string
	flags   []string
}{
	{"Input", []string{"pcap", "scan"}},
	{"Output", []string{"format", "output", "severity", "since"}},
	{"Store and history", []string{"db", "secret-key-file", "audit-key-file", "label", "site", "kind", "baseline", "baseline-scan"}},
	{"Policy and CI gate", []string{"policy", "ignore-file", "key-blocklist", "fail-on", "fail-on-new", "allow-partial"}},
	{"Active probing (targets as arguments)", []string{"target-file", "exclude", "exclude-file", "ports", "profile",
		"probe-medical-devices", "no-dns", "list-targets", "pause", "rate", "connect-timeout", "handshake-timeout",
		"max-conns-per-host", "max-failures", "parallel-hosts", "no-progress"}},
	{"Live capture", []string{"iface", "duration", "packets", "bpf", "snaplen", "no-promisc", "write-pcap",
		"pcap-max-file", "pcap-max-age", "pcap-max-total", "commit-interval", "workers"}},
}

// groupedUsage is cobra's usage template with the command's own flags under the
// headings of flagGroups when they span three groups or more (else one "Flags:" list).
func groupedUsage(root *cobra.Command) {
	cobra.AddTemplateFunc("groupedFlags", groupedFlags)
	const plain = "\n\nFlags:\n{{.LocalFlags.FlagUsages | trimTrailingWhitespaces}}"
	tmpl := root.UsageTemplate()
	if !strings.Contains(tmpl, plain) {
		panic("cobra's usage template changed: update groupedUsage")
	}
	root.SetUsageTemplate(strings.Replace(tmpl, plain, "{{groupedFlags .LocalFlags}}", 1))
}

// groupedFlags renders fs's flags, grouped when that helps.
func groupedFlags(fs *pflag.FlagSet) string {
	sets := make([]*pflag.FlagSet, len(flagGroups)+1)
	group := map[string]int{}
	for i, g := range flagGroups {
		for _, name := range g.flags {
			group[name] = i
		}
	}
	used := 0
	fs.VisitAll(func(f *pflag.Flag) {
		i, ok := group[f.Name]
		if !ok {
			i = len(flagGroups) // "Other"
		}
		if sets[i] == nil {
			sets[i] = pflag.NewFlagSet("", pflag.ContinueOnError)
			used++
		}
		sets[i].AddFlag(f)
	})
	trim := func(s string) string { return strings.TrimRight(s, " \n") }
	if used < 3 {
		return "\n\nFlags:\n" + trim(fs.FlagUsages())
	}
	var b strings.Builder
	for i, set := range sets {
		if set == nil {
			continue
		}
		heading := "Other flags"
		if i < len(flagGroups) {
			heading = flagGroups[i].heading + " flags"
		}
		b.WriteString("\n\n" + heading + ":\n" + trim(set.FlagUsages()))
	}
	return b.String()
}
