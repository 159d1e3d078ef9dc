package report

// This file lays out terminal tables: column widths fitted to the terminal, text wrapped
// at word boundaries (and inside long words after punctuation), no character dropped.

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/pkg/twwidth"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

func width(s string) int { return twwidth.Width(s) }

// breakAfter are the characters after which a word too long for its column is best
// split: suite names, DNs, paths and host:port lists stay readable.
const breakAfter = "_-/,.:;@"

// runeWidth is the columns one rune takes, with a fast path for the common case.
func runeWidth(r rune) int {
	if r >= 0x20 && r < 0x300 && r != 0x7f && (r < 0x80 || r >= 0xa0) {
		return 1
	}
	return width(string(r))
}

// wrap fits s into lines of at most w columns, breaking at spaces and, inside words
// longer than a line, after punctuation. It never drops a character other than the
// spaces it breaks at, and takes time linear in len(s): text from the network can be
// long. Only a lone rune wider than w (a wide rune in a column of one) exceeds it.
func wrap(s string, w int) []string {
	if w < 1 {
		w = 1
	}
	var (
		lines []string
		line  strings.Builder
		lw    int // width of line
	)
	flush := func() {
		lines = append(lines, line.String())
		line.Reset()
		lw = 0
	}
	for _, para := range strings.Split(s, "\n") {
		for _, word := range strings.Fields(para) {
			ww := width(word)
			sep := 0
			if line.Len() > 0 {
				sep = 1
			}
			if lw+sep+ww <= w {
				if sep == 1 {
					line.WriteByte(' ')
				}
				line.WriteString(word)
				lw += sep + ww
				continue
			}
			if line.Len() > 0 && (ww <= w || w-lw-sep < 4) {
				// The word fits on a line of its own, or too little room is left
				// for a useful piece of it.
				flush()
				sep = 0
				if ww <= w {
					line.WriteString(word)
					lw = ww
					continue
				}
			}
			// The word is longer than a line: cut it into pieces, the first filling
			// what is left of the current line when it can end after punctuation
			// there (a DN's "O=St. Example Hospital," keeps its comma).
			if sep == 1 {
				if _, _, soft := splitWord(word, w-lw-1); soft {
					line.WriteByte(' ')
					lw++
				} else {
					flush()
				}
			}
			for word != "" {
				head, hw, _ := splitWord(word, w-lw)
				line.WriteString(head)
				lw += hw
				word = word[len(head):]
				if word != "" {
					flush()
				}
			}
		}
		if line.Len() > 0 || para == "" || len(lines) == 0 {
			flush()
		}
	}
	// A trailing empty line from a trailing newline carries nothing.
	for len(lines) > 1 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// maxCell bounds the characters of one table cell. Cells are never cut to fit a line
// count: a reader must see every character of a message, a name or a suite. Only text
// no honest peer sends (a megabyte certificate subject) reaches this bound, and the
// cell then says how much it leaves out and where to read all of it.
const maxCell = 4096

// bound returns cell, or its first maxCell characters followed by a note of the cut.
func bound(cell string) string {
	n := 0
	for i := range cell {
		if n == maxCell {
			return cell[:i] + fmt.Sprintf(" [cut here: %d more characters; --format json has them all]",
				utf8.RuneCountInString(cell[i:]))
		}
		n++
	}
	return cell
}

// splitWord returns the longest head of word that fits in room columns, preferring to
// end it just after one of breakAfter when that keeps at least half of it, its width,
// and whether it ends there. The head holds at least one rune so that wrapping always
// progresses.
func splitWord(word string, room int) (head string, hw int, soft bool) {
	cut, used, at, atW := 0, 0, 0, 0
	for cut < len(word) {
		r, n := utf8.DecodeRuneInString(word[cut:])
		rw := runeWidth(r)
		if used+rw > room && cut > 0 {
			break
		}
		used += rw
		cut += n
		if strings.ContainsRune(breakAfter, r) {
			at, atW = cut, used
		}
	}
	if cut < len(word) && at > 0 && at < cut && at >= cut/2 {
		return word[:at], atW, true
	}
	return word[:cut], used, at == cut
}

// column says how a table column may be fitted.
type column struct {
	header string
	min    int  // never narrower than this (nor than the header)
	flex   bool // may be narrowed, and its cells wrapped, to fit the width
	// prose marks a flexible column of sentences (messages, reasons, titles): narrowed
	// first, but only down to proseWidth until the columns of names beside it (rule
	// IDs, targets), which read worse wrapped, are as narrow as they may be.
	prose bool
}

// proseWidth is the width a prose column keeps while other columns can still give way:
// about four words a line.
const proseWidth = 24

// table is one section's table before fitting.
type table struct {
	cols  []column
	rows  [][]string
	paint []string // per row: an ANSI SGR code for the first column, used with colour
}

// tableSymbols is the one border style of every terminal table: plain ASCII, which any
// terminal, pager, log file and e-mail shows alike.
var tableSymbols = tw.NewSymbols(tw.StyleASCII)

// border is the columns a table's borders and padding take: three per column and one.
func border(cols int) int { return 3*cols + 1 }

// comfortable reports whether the table fits total without wrapping a column of names
// (rule IDs, targets) or narrowing prose below proseWidth. A writer with a compact
// layout (names and prose in one cell) takes it when its full one is not comfortable.
func (t *table) comfortable(total int) bool {
	natural := t.natural()
	sum := border(len(t.cols))
	for i, c := range t.cols {
		if c.prose {
			sum += min(natural[i], max(c.min, width(c.header), proseWidth))
		} else {
			sum += natural[i]
		}
	}
	return sum <= total
}

// layout is the first of tables that fits total comfortably, else the last: writers
// list their layouts from the widest to the most compact.
func layout(total int, tables ...*table) *table {
	for _, t := range tables[:len(tables)-1] {
		if t.comfortable(total) {
			return t
		}
	}
	return tables[len(tables)-1]
}

// natural is each column's width unwrapped: its widest line, header included.
func (t *table) natural() []int {
	ws := make([]int, len(t.cols))
	for i, c := range t.cols {
		ws[i] = width(c.header)
	}
	for _, row := range t.rows {
		for i, cell := range row {
			for _, line := range strings.Split(bound(cell), "\n") {
				ws[i] = max(ws[i], width(line))
			}
		}
	}
	return ws
}

// fit chooses column widths: each column's natural width, then flexible columns
// narrowed one column at a time, the widest first, until the table, borders included,
// fits total: prose columns down to proseWidth, then the others down to their minimum,
// then prose down to its minimum. What still does not fit is left to the terminal.
func (t *table) fit(total int) []int {
	ws := t.natural()
	sum := border(len(ws))
	for _, w := range ws {
		sum += w
	}
	floor := func(i int, proseFloor bool) int {
		m := max(t.cols[i].min, width(t.cols[i].header))
		if proseFloor {
			m = max(m, proseWidth)
		}
		return m
	}
	phases := []func(c column) (ok, proseFloor bool){
		func(c column) (bool, bool) { return c.prose, true },
		func(c column) (bool, bool) { return !c.prose, false },
		func(c column) (bool, bool) { return c.prose, false },
	}
	for _, phase := range phases {
		for sum > total {
			best := -1
			for i, c := range t.cols {
				ok, pf := phase(c)
				if ok && c.flex && ws[i] > floor(i, pf) && (best < 0 || ws[i] > ws[best]) {
					best = i
				}
			}
			if best < 0 {
				break
			}
			ws[best]--
			sum--
		}
	}
	return ws
}

// renderHook, set by tests, sees every table rendered: the cells it was given, the
// widths it was fitted to and the text written.
var renderHook func(t *table, ws []int, out []byte)

// render writes the table, fitted to total columns.
func (t *table) render(out io.Writer, total int, color bool) error {
	ws := t.fit(total)
	var buf bytes.Buffer
	tb := tablewriter.NewTable(&buf,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{Symbols: tableSymbols})),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
		tablewriter.WithTrimSpace(tw.Off),
		tablewriter.WithEastAsian(tw.Off),
	)
	header := make([]any, len(t.cols))
	for i, c := range t.cols {
		header[i] = c.header
	}
	tb.Header(header...)
	for r, row := range t.rows {
		cells := make([]any, len(row))
		for i, cell := range row {
			var lines []string
			for _, line := range strings.Split(bound(cell), "\n") {
				if width(line) > ws[i] {
					lines = append(lines, wrap(line, ws[i])...)
				} else {
					lines = append(lines, line)
				}
			}
			if color && i == 0 && r < len(t.paint) && t.paint[r] != "" {
				for j, line := range lines {
					lines[j] = "\x1b[" + t.paint[r] + "m" + line + "\x1b[0m"
				}
			}
			cells[i] = strings.Join(lines, "\n")
		}
		if err := tb.Append(cells...); err != nil {
			return err
		}
	}
	if err := tb.Render(); err != nil {
		return err
	}
	if renderHook != nil {
		renderHook(t, ws, buf.Bytes())
	}
	_, err := out.Write(buf.Bytes())
	return err
}

// writeWrapped writes text wrapped to total columns: the lines around the tables.
func writeWrapped(out io.Writer, total int, text string) error {
	for _, line := range wrap(text, total) {
		if _, err := fmt.Fprintln(out, line); err != nil {
			return err
		}
	}
	return nil
}

// headed is a compact layout's cell: a heading line (a rule and its target), then the
// text under it, when there is any.
func headed(head, text string) string {
	if text == "" {
		return head
	}
	return head + "\n" + text
}
