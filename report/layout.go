package report

// This file lays out terminal tables: column widths fitted to the terminal, text wrapped
// at word boundaries (and inside long words after punctuation), cuts marked with "…".

import (
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
const breakAfter = "_-/,.:=;@"

// runeWidth is the columns one rune takes, with a fast path for the common case.
func runeWidth(r rune) int {
	if r >= 0x20 && r < 0x300 && r != 0x7f && (r < 0x80 || r >= 0xa0) {
		return 1
	}
	return width(string(r))
}

// wrap fits s into lines of at most w columns, breaking at spaces and, inside words
// longer than a line, after punctuation. More than maxLines lines (0: no limit) are cut,
// with the last one ending in "…" so that the cut is visible. It takes time linear in
// len(s): text from the network can be long.
func wrap(s string, w, maxLines int) []string {
	if w < 1 {
		w = 1
	}
	var (
		lines []string
		line  strings.Builder
		lw    int // width of line
	)
	full := func() bool { return maxLines > 0 && len(lines) > maxLines }
	flush := func() {
		lines = append(lines, line.String())
		line.Reset()
		lw = 0
	}
	for _, para := range strings.Split(s, "\n") {
		if full() {
			break
		}
		for _, word := range strings.Fields(para) {
			if full() {
				break
			}
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
			// what is left of the current line.
			if sep == 1 {
				line.WriteByte(' ')
				lw++
			}
			for word != "" && !full() {
				head, hw := splitWord(word, w-lw)
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
	if maxLines > 0 && len(lines) > maxLines {
		lines = lines[:maxLines]
		lines[maxLines-1] = ellipsis(lines[maxLines-1], w)
	}
	return lines
}

// ellipsis ends line with "…", within w columns, to show that text was cut after it.
func ellipsis(line string, w int) string {
	for line != "" && width(line)+1 > w {
		_, n := utf8.DecodeLastRuneInString(line)
		line = line[:len(line)-n]
	}
	return line + "…"
}

// splitWord returns the longest head of word that fits in room columns, preferring to
// end it just after one of breakAfter when that keeps at least half of it, and its
// width. The head holds at least one rune so that wrapping always progresses.
func splitWord(word string, room int) (head string, hw int) {
	cut, used, soft, softW := 0, 0, 0, 0
	for cut < len(word) {
		r, n := utf8.DecodeRuneInString(word[cut:])
		rw := runeWidth(r)
		if used+rw > room && cut > 0 {
			break
		}
		used += rw
		cut += n
		if strings.ContainsRune(breakAfter, r) {
			soft, softW = cut, used
		}
	}
	if cut < len(word) && soft > 0 && soft < cut && soft >= cut/2 {
		return word[:soft], softW
	}
	return word[:cut], used
}

// column says how a table column may be fitted.
type column struct {
	header   string
	min      int  // never narrower than this (nor than the header)
	flex     bool // may be narrowed, and its cells wrapped, to fit the width
	maxLines int  // lines a cell may wrap to (0: no limit)
}

// table is one section's table before fitting.
type table struct {
	cols  []column
	rows  [][]string
	paint []string // per row: an ANSI SGR code for the first column, used with colour
}

// fit chooses column widths: each column's natural width, then the widest flexible
// columns narrowed one at a time until the table (with its borders and padding: three
// characters per column and one) fits total.
func (t *table) fit(total int) []int {
	ws := make([]int, len(t.cols))
	mins := make([]int, len(t.cols))
	for i, c := range t.cols {
		ws[i] = width(c.header)
		mins[i] = max(c.min, width(c.header))
	}
	for _, row := range t.rows {
		for i, cell := range row {
			for _, line := range strings.Split(cell, "\n") {
				ws[i] = max(ws[i], width(line))
			}
		}
	}
	sum := 3*len(ws) + 1
	for _, w := range ws {
		sum += w
	}
	for sum > total {
		best := -1
		for i, c := range t.cols {
			if c.flex && ws[i] > mins[i] && (best < 0 || ws[i] > ws[best]) {
				best = i
			}
		}
		if best < 0 {
			break // as narrow as it can be; the terminal will wrap the rest
		}
		ws[best]--
		sum--
	}
	return ws
}

// render writes the table, fitted to total columns.
func (t *table) render(out io.Writer, total int, color bool) error {
	ws := t.fit(total)
	tb := tablewriter.NewTable(out,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{Symbols: tw.NewSymbols(tw.StyleASCII)})),
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
			for _, line := range strings.Split(cell, "\n") {
				if width(line) > ws[i] {
					lines = append(lines, wrap(line, ws[i], t.cols[i].maxLines)...)
				} else {
					lines = append(lines, line)
				}
			}
			if m := t.cols[i].maxLines; m > 0 && len(lines) > m {
				lines = lines[:m]
				lines[m-1] = ellipsis(lines[m-1], ws[i])
			}
			text := strings.Join(lines, "\n")
			if color && i == 0 && r < len(t.paint) && t.paint[r] != "" {
				for j, line := range lines {
					lines[j] = "\x1b[" + t.paint[r] + "m" + line + "\x1b[0m"
				}
				text = strings.Join(lines, "\n")
			}
			cells[i] = text
		}
		if err := tb.Append(cells...); err != nil {
			return err
		}
	}
	return tb.Render()
}
