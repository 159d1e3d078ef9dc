package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/report"
)

// outputFlags are shared by every command that renders a report.
type outputFlags struct {
	format string
	output string
	db     string
	failOn string
}

func (o *outputFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&o.format, "format", "table", "report format: table or json")
	fs.StringVarP(&o.output, "output", "o", "", "write the report to `FILE` instead of standard output")
	fs.StringVar(&o.db, "db", "", "SQLite store `PATH` (default $MEDSCAN_DB, else ./medscan.db)")
	fs.StringVar(&o.failOn, "fail-on", "", "exit 3 when a finding at or above `SEVERITY` exists (info, low, medium, high, critical)")
}

func (o *outputFlags) dbPath() string {
	if o.db != "" {
		return o.db
	}
	if env := os.Getenv("MEDSCAN_DB"); env != "" {
		return env
	}
	return "medscan.db"
}

// check validates the flags before any work is done, so a typo costs nothing.
func (o *outputFlags) check() (gate *findings.Severity, w report.Writer, err error) {
	if o.failOn != "" {
		s, err := findings.ParseSeverity(o.failOn)
		if err != nil {
			return nil, nil, usageError{"--fail-on: " + err.Error()}
		}
		gate = &s
	}
	w, err = report.New(o.format, report.Options{Color: o.output == "" && colorWanted(), Width: 100})
	if err != nil {
		return nil, nil, usageError{"--format: " + err.Error()}
	}
	return gate, w, nil
}

// render loads a scan from the store and writes it where the flags say.
func (o *outputFlags) render(ctx context.Context, st *findings.Store, id int64, w report.Writer, stdout io.Writer) (*findings.Report, error) {
	rep, err := st.Load(ctx, id)
	if err != nil {
		return nil, err
	}
	if o.output == "" {
		return rep, w.Write(stdout, rep)
	}
	f, err := os.Create(o.output)
	if err != nil {
		return nil, err
	}
	if err := w.Write(f, rep); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", o.output, err)
	}
	return rep, f.Close()
}

// gate applies --fail-on to a rendered report.
func gateFailed(gate *findings.Severity, rep *findings.Report, stderr io.Writer) error {
	if gate == nil {
		return nil
	}
	n := 0
	for _, f := range rep.Findings {
		if f.Severity >= *gate {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	fmt.Fprintf(stderr, "medscan: %d finding(s) at or above %s (--fail-on)\n", n, *gate)
	return codeError{exitFindings}
}

// colorWanted is true when stdout is a terminal and NO_COLOR is not set.
func colorWanted() bool {
	if os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	fi, err := os.Stdout.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// parseFlags parses a subcommand's flags, turning pflag's errors into usage errors.
func parseFlags(fs *pflag.FlagSet, args []string, stdout io.Writer) (help bool, err error) {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			fmt.Fprintf(stdout, "Usage of medscan %s:\n%s", fs.Name(), fs.FlagUsages())
			return true, nil
		}
		return false, usageError{fs.Name() + ": " + err.Error()}
	}
	return false, nil
}

func summaryLine(rep *findings.Report) string {
	s := rep.Summary
	parts := []string{}
	for _, p := range []struct {
		n    int
		name string
	}{{s.Critical, "critical"}, {s.High, "high"}, {s.Medium, "medium"}, {s.Low, "low"}, {s.Info, "info"}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.name))
		}
	}
	if len(parts) == 0 {
		return fmt.Sprintf("%d findings", s.Total)
	}
	return fmt.Sprintf("%d findings (%s)", s.Total, strings.Join(parts, ", "))
}
