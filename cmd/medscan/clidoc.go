package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// cliReference renders docs/cli.md from the command tree: every command, flag,
// environment variable and configuration key, so the reference cannot drift from what
// medscan accepts (a test compares the file with this output).
func cliReference(root *cobra.Command) string {
	var b strings.Builder
	b.WriteString(`# medscan command-line reference

<!-- Generated from the command definitions by cmd/medscan (cliReference); do not edit.
     Regenerate with: go test ./cmd/medscan -run TestCLIReference -update -->

Every flag below can be given three ways, and the first one found wins:

1. on the command line (` + "`--fail-on high`" + `);
2. in the environment, as ` + "`MEDSCAN_` + the flag's name in capitals with `_` for `-`" + `
   (` + "`MEDSCAN_FAIL_ON=high`" + `; a repeatable flag takes a comma-separated list);
3. in the configuration file: ` + "`--config FILE`" + ` (or ` + "`MEDSCAN_CONFIG`" + `), else
   ` + "`medscan.yaml`" + ` in the working directory, else ` + "`$XDG_CONFIG_HOME/medscan/config.yaml`" + `
   (` + "`~/.config/medscan/config.yaml`" + `).

The configuration file is YAML. A top-level key is a flag's name and applies to every
command that has that flag; a key naming a command holds flags for that command only,
and wins over a top-level key. A repeatable flag takes a list. A key that is no flag
is an error naming the file and the line.

` + "```yaml" + `
# medscan.yaml: a nightly job's choices, written once
db: /var/lib/medscan/medscan.db
label: icu-west
fail-on: high
scan:
  policy: /etc/medscan/policy.yaml
  pcap: [/srv/captures/icu-west.pcapng]
report:
  format: html
` + "```" + `

Flags that make no sense as a default (` + "`--help`, `--config`, `--version`" + `) are read
from the command line only. ` + "`-o FILE`" + ` without ` + "`-f`" + ` takes the format from the file's
extension (.json, .html, .htm, .sarif, .csv); ` + "`-s/--severity`" + ` narrows what is shown,
never what is stored or what ` + "`--fail-on`" + ` counts.

Exit codes: 0 clean, 1 error or incomplete scan, 2 usage, 3 findings at or above
` + "`--fail-on`" + ` (with ` + "`--fail-on-new`" + `, only new ones). SIGINT or SIGTERM stops a scan
within a second: what was read is stored and reported, marked incomplete (exit 1); a
second signal exits at once (130 for SIGINT, 143 for SIGTERM), storing nothing more.

`)
	b.WriteString("## Flags of every command\n\n")
	flagTable(&b, root.PersistentFlags(), "")
	cmds := root.Commands()
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].Name() < cmds[j].Name() })
	for _, c := range cmds {
		if c.Hidden || c.Name() == "help" {
			continue
		}
		fmt.Fprintf(&b, "## medscan %s\n\n%s.\n\n```\nmedscan %s\n```\n\n", c.Name(), c.Short,
			strings.TrimPrefix(c.UseLine(), "medscan "))
		if c.Long != "" {
			b.WriteString(c.Long + "\n\n")
		}
		if c.Example != "" {
			b.WriteString("Examples:\n\n```\n" + strings.TrimRight(c.Example, "\n") + "\n```\n\n")
		}
		for _, sub := range c.Commands() {
			fmt.Fprintf(&b, "- `medscan %s %s`: %s\n", c.Name(), sub.Name(), sub.Short)
		}
		if c.HasSubCommands() {
			b.WriteString("\n")
		}
		flagTable(&b, c.LocalNonPersistentFlags(), c.Name())
	}
	return b.String()
}

// flagTable writes one command's flags: name, environment variable, configuration key,
// default and meaning.
func flagTable(b *strings.Builder, fs *pflag.FlagSet, command string) {
	var rows []*pflag.Flag
	fs.VisitAll(func(f *pflag.Flag) {
		if !f.Hidden && f.Name != "help" {
			rows = append(rows, f)
		}
	})
	if len(rows) == 0 {
		b.WriteString("No flags of its own.\n\n")
		return
	}
	b.WriteString("| flag | environment | config key | default | meaning |\n|---|---|---|---|---|\n")
	for _, f := range rows {
		name := "`--" + f.Name + "`"
		if f.Shorthand != "" {
			name = "`-" + f.Shorthand + "`, " + name
		}
		env, key := "`"+envName(f.Name)+"`", "`"+f.Name+"`"
		if command != "" {
			key += " or `" + command + "." + f.Name + "`"
		}
		if notConfigurable[f.Name] {
			env, key = "—", "—"
		}
		def := f.DefValue
		switch {
		case def == "" || def == "[]" || def == "false" && f.Value.Type() == "bool":
			def = "—"
		default:
			def = "`" + def + "`"
		}
		_, usage := pflag.UnquoteUsage(f)
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s |\n", name, env, key, def, strings.ReplaceAll(usage, "|", `\|`))
	}
	b.WriteString("\n")
}
