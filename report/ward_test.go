package report_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/internal/scan"
	"github.com/medscan/medscan/report"
	"github.com/medscan/medscan/rules"
	"github.com/medscan/medscan/store"
)

// TestWardReportValidates scans the committed ward capture into a fresh store, as the
// CLI does, and holds every machine-readable format of the stored report to its
// contract: the JSON to medscan's schema, the SARIF to the SARIF 2.1.0 schema, the CSV
// to well-formed tables.
func TestWardReportValidates(t *testing.T) {
	rep := wardReport(t)
	if len(rep.Findings) == 0 || len(rep.Certificates) == 0 || len(rep.Assets) == 0 {
		t.Fatalf("the ward scan is thin: %d findings, %d certificates, %d assets",
			len(rep.Findings), len(rep.Certificates), len(rep.Assets))
	}
	catalog := rules.CatalogIndex()
	render := func(format string, opts report.Options) []byte {
		t.Helper()
		w, err := report.Scan.New(format, opts)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := w.Write(&b, rep); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	check := func(name string, schema []byte, doc []byte) {
		t.Helper()
		sdoc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
		if err != nil {
			t.Fatal(err)
		}
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		if err := c.AddResource("schema.json", sdoc); err != nil {
			t.Fatal(err)
		}
		sch, err := c.Compile("schema.json")
		if err != nil {
			t.Fatal(err)
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(inst); err != nil {
			t.Errorf("%s does not validate: %v", name, err)
		}
	}
	check("ward JSON", report.JSONSchema(), render("json", report.Options{}))
	if path := os.Getenv("MEDSCAN_SARIF_SCHEMA"); path != "" {
		sarifSchema := readFile(t, path)
		check("ward SARIF with the catalog", sarifSchema, render("sarif", report.Options{Catalog: catalog}))
		check("ward SARIF without it", sarifSchema, render("sarif", report.Options{}))
	} else if os.Getenv("MEDSCAN_REQUIRE_SARIF_SCHEMA") == "1" {
		t.Fatal("MEDSCAN_REQUIRE_SARIF_SCHEMA=1 but MEDSCAN_SARIF_SCHEMA names no schema file")
	}
	for _, f := range []string{"csv", "csv-assets"} {
		rows, err := csv.NewReader(bytes.NewReader(render(f, report.Options{}))).ReadAll()
		if err != nil || len(rows) < 2 {
			t.Errorf("%s: %d rows, %v", f, len(rows), err)
		}
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// wardReport scans the committed ward capture into a fresh store, as the CLI does, and
// loads the report back.
func wardReport(t *testing.T) *findings.Report {
	t.Helper()
	if testing.Short() {
		t.Skip("scans a capture")
	}
	st, err := store.Open(filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fixed := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	res, err := scan.Run(context.Background(), st, scan.Options{Pcaps: []string{filepath.Join("..", "fixtures", "ward.pcapng")},
		Label: "4-west", ToolVersion: "test", Clock: func() time.Time { return fixed }})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := st.Load(context.Background(), res.ScanID)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestWardTables renders the ward scan's table at 80 and 160 columns against golden
// files, every line within the width and every cell whole (issue 12, defect 5).
func TestWardTables(t *testing.T) {
	rep := wardReport(t)
	// The source is an absolute path, which differs from machine to machine.
	rep.Scan.Sources = []string{"fixtures/ward.pcapng"}
	for _, total := range []int{80, 160} {
		w, err := report.Scan.New("table", report.Options{Width: total})
		if err != nil {
			t.Fatal(err)
		}
		out := report.CheckTables(t, total, func(out io.Writer) error { return w.Write(out, rep) })
		report.Golden(t, fmt.Sprintf("ward_%d.golden", total), out)
	}
}
