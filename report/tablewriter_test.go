package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// tablewriterTable is a table as tablewriter (Blueprint, plain ASCII, no wrapping,
// alignment or trimming of its own) writes it, which the terminal tables were until
// draw: what draw must write.
func tablewriterTable(header []string, rows [][][]string) string {
	var buf bytes.Buffer
	tb := tablewriter.NewTable(&buf,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{Symbols: tw.NewSymbols(tw.StyleASCII)})),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
		tablewriter.WithTrimSpace(tw.Off),
		tablewriter.WithEastAsian(tw.Off),
	)
	h := make([]any, len(header))
	for i, c := range header {
		h[i] = c
	}
	tb.Header(h...)
	for _, row := range rows {
		cells := make([]any, len(row))
		for i, lines := range row {
			cells[i] = strings.Join(lines, "\n")
		}
		if err := tb.Append(cells...); err != nil {
			panic(err)
		}
	}
	if err := tb.Render(); err != nil {
		panic(err)
	}
	return buf.String()
}

// TestDrawAsTablewriter: draw writes what tablewriter wrote, on tables CheckTables does
// not meet: no row, empty cells, cells of several lines beside one-line ones, wide and
// painted text.
func TestDrawAsTablewriter(t *testing.T) {
	header := []string{"STATUS", "SEVERITY", "DETAIL"}
	for _, rows := range [][][][]string{
		nil,
		{{{""}, {""}, {""}}},
		{{{"NEW"}, {"HIGH"}, {"one", "two", "three"}}, {{"a", "b"}, {""}, {"x"}}},
		{{{"\x1b[31mNEW\x1b[0m"}, {"CRITICAL"}, {"日本語のテキスト", "é"}}, {{"persisting"}, {"LOW"}, {"  spaced  "}}},
	} {
		var buf bytes.Buffer
		draw(&buf, header, rows)
		if want := tablewriterTable(header, rows); buf.String() != want {
			t.Errorf("%q: drawn\n%s\ntablewriter wrote\n%s", rows, buf.String(), want)
		}
	}
}
