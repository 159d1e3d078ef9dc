package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/medscan/medscan/findings"
)

func init() {
	Scan.register("json", func(Options) Writer[*findings.Report] {
		return WriterFunc[*findings.Report](func(w io.Writer, r *findings.Report) error {
			if r == nil {
				return fmt.Errorf("report: json: no report")
			}
			if r.Stream != nil {
				return writeJSONStream(w, r, r.Stream.All)
			}
			return writeJSON(w, r)
		})
	})
}

// writeJSON encodes a (tidy: see Registry.New) document as medscan's JSON: two-space
// indentation, a trailing newline. The document's field names are the contract with
// everything that reads medscan's output.
//
// The document is written as a stream, in the bytes json.Encoder with SetIndent("",
// "  ") writes for the whole: the top-level object field by field, and each top-level
// list (a scan's findings, its assets...) element by element, each encoded alone into
// one reused buffer. A scan of tens of thousands of findings is then never held as one
// encoded document in memory (encoding/json builds the whole output before writing
// any of it), and the first bytes leave at once. A test holds the stream to
// json.MarshalIndent's bytes.
func writeJSON(w io.Writer, doc any) error { return writeJSONStream(w, doc, nil) }

// writeJSONStream is writeJSON, the findings list of the document taken from fs when it
// is not nil (a scan read from the store as it is written: findings.FindingStream): the
// same bytes, each finding encoded as it arrives and then dropped.
func writeJSONStream(w io.Writer, doc any, fs iter.Seq2[findings.Finding, error]) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	s := &jsonStream{w: bw, findings: fs}
	s.enc = json.NewEncoder(&s.buf)
	// Subjects, URLs and messages stay readable: the document is not meant to be pasted
	// into HTML, and the HTML writer escapes for itself.
	s.enc.SetEscapeHTML(false)
	s.top(reflect.ValueOf(doc))
	s.raw("\n")
	if s.err == nil {
		s.err = bw.Flush()
	}
	if s.err != nil {
		return fmt.Errorf("report: json: %w", s.err)
	}
	return nil
}

// jsonStream writes one document; err is the first error, after which nothing is
// written.
type jsonStream struct {
	w   *bufio.Writer
	buf bytes.Buffer // a value, compact
	out []byte       // the value, indented
	enc *json.Encoder
	err error
	// findings, when not nil, is written as the top-level object's "findings" list.
	findings iter.Seq2[findings.Finding, error]
}

func (s *jsonStream) raw(text string) {
	if s.err == nil {
		_, s.err = s.w.WriteString(text)
	}
}

// value writes v whole, its lines indented by indent, as json.MarshalIndent would
// within the enclosing document: encoded compact by encoding/json, then indented by
// indentJSON, which knows its input is encoding/json's own output and so needs no
// scanner (encoding/json's indenting pass, the Encoder's SetIndent, validates the bytes
// it has just written with its full state machine: a third of writing a hospital's
// report).
func (s *jsonStream) value(v reflect.Value, indent string) {
	if s.err != nil {
		return
	}
	s.out, s.err = s.appendValue(s.out[:0], v, indent)
	if s.err == nil {
		_, s.err = s.w.Write(s.out)
	}
}

// appendValue appends v's JSON, its lines indented by indent, to dst: a finding by
// appendFinding where it takes the finding on, anything else encoded by s's encoder
// and indented.
func (s *jsonStream) appendValue(dst []byte, v reflect.Value, indent string) ([]byte, error) {
	if v.Type() == findingType {
		var f *findings.Finding
		if v.CanAddr() {
			f = v.Addr().Interface().(*findings.Finding)
		} else {
			c := v.Interface().(findings.Finding)
			f = &c
		}
		if out, ok := appendFinding(dst, f, indent); ok {
			return out, nil
		}
	}
	s.buf.Reset()
	if err := s.enc.Encode(v.Interface()); err != nil {
		return dst, err
	}
	return indentJSON(dst, bytes.TrimSuffix(s.buf.Bytes(), []byte("\n")), indent), nil
}

// indentSpaces is the indentation of a few levels, to append in one go.
const indentSpaces = "                                "

// indentJSON appends src, compact JSON as encoding/json writes it (no space outside
// strings), to dst in the layout json.Indent gives it with prefix and an indent of two
// spaces: a newline and the prefix before each element and key, ": " after a key, and
// {} and [] for an empty object and list. A test holds it to json.Indent.
func indentJSON(dst, src []byte, prefix string) []byte {
	// The indented text is longer than src; making room for half as much again up front
	// spares most of the growing (and copying) of a dst that starts small.
	dst = slices.Grow(dst, len(src)+len(src)/2)
	depth := 0
	open := false // after a { or [: the newline waits for the first element, if any
	newline := func() {
		dst = append(dst, '\n')
		dst = append(dst, prefix...)
		n := 2 * depth
		for ; n > len(indentSpaces); n -= len(indentSpaces) {
			dst = append(dst, indentSpaces...)
		}
		dst = append(dst, indentSpaces[:n]...)
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		if open && c != '}' && c != ']' {
			open = false
			depth++
			newline()
		}
		switch c {
		case '"':
			j := i + 1
			for j < len(src) && src[j] != '"' {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			dst = append(dst, src[i:min(j+1, len(src))]...)
			i = j
		case '{', '[':
			open = true
			dst = append(dst, c)
		case ',':
			dst = append(dst, c)
			newline()
		case ':':
			dst = append(dst, ':', ' ')
		case '}', ']':
			if open {
				open = false
			} else {
				depth--
				newline()
			}
			dst = append(dst, c)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

var marshalerType = reflect.TypeFor[json.Marshaler]()

// top writes the document: an object field by field and a list element by element,
// anything else (or an object encoding/json treats specially) whole.
func (s *jsonStream) top(v reflect.Value) {
	for v.Kind() == reflect.Pointer && !v.IsNil() && !v.Type().Implements(marshalerType) {
		v = v.Elem()
	}
	switch {
	case streamList(v):
		s.list(v, "")
	case v.Kind() == reflect.Struct && streamable(v.Type()):
		s.object(v, "")
	default:
		s.value(v, "")
	}
}

// streamable reports whether a struct's JSON is its exported fields, tagged by name
// and omitempty only, in order: what object writes. Anything else (a Marshaler, an
// embedded struct, the string or omitzero options) is written whole by encoding/json.
func streamable(t reflect.Type) bool {
	if t.Implements(marshalerType) || reflect.PointerTo(t).Implements(marshalerType) {
		return false
	}
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous {
			return false
		}
		_, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if opts != "" && opts != "omitempty" {
			return false
		}
	}
	return true
}

// streamList reports whether v is a list written element by element: a slice that
// encoding/json writes as an array (not null, not a []byte's base64, not a Marshaler).
func streamList(v reflect.Value) bool {
	return v.Kind() == reflect.Slice && !v.IsNil() && v.Type().Elem().Kind() != reflect.Uint8 &&
		!v.Type().Implements(marshalerType)
}

// object writes a struct's fields at indent, each list field element by element. The
// top level's "change" (a scan's change since an earlier one: findings.Change, whose
// persisting list has a line for nearly every finding of a scheduled scan) is written
// the same way, its lists element by element, rather than encoded whole.
func (s *jsonStream) object(v reflect.Value, indent string) {
	t := v.Type()
	first := true
	inner := indent + "  "
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if !f.IsExported() || tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		fv := v.Field(i)
		if opts == "omitempty" && emptyValue(fv) {
			continue
		}
		if first {
			s.raw("{\n" + inner)
			first = false
		} else {
			s.raw(",\n" + inner)
		}
		s.key(name)
		switch {
		case indent == "" && name == "findings" && s.findings != nil:
			s.seq(s.findings, inner)
			s.findings = nil // the top level's only: a nested "findings" is the document's own
		case streamList(fv):
			s.list(fv, inner)
		case indent == "" && name == "change" && fv.Kind() == reflect.Pointer && !fv.IsNil() &&
			fv.Elem().Kind() == reflect.Struct && streamable(fv.Elem().Type()):
			s.object(fv.Elem(), inner)
		default:
			s.value(fv, inner)
		}
	}
	if first {
		s.raw("{}")
		return
	}
	s.raw("\n" + indent + "}")
}

// key writes a field name and its colon.
func (s *jsonStream) key(name string) {
	if s.err != nil {
		return
	}
	s.buf.Reset()
	if s.err = s.enc.Encode(name); s.err != nil {
		return
	}
	s.raw(strings.TrimSuffix(s.buf.String(), "\n") + ": ")
}

// list writes a slice's elements one by one, at indent; a long list is encoded on
// every core (encodeList).
func (s *jsonStream) list(v reflect.Value, indent string) {
	if v.Len() == 0 {
		s.raw("[]")
		return
	}
	inner := indent + "  "
	s.raw("[")
	if v.Len() >= 2*listChunk && runtime.GOMAXPROCS(0) > 1 {
		s.encodeList(v, inner)
	} else {
		for i := range v.Len() {
			if i > 0 {
				s.raw(",")
			}
			s.raw("\n" + inner)
			s.value(v.Index(i), inner)
		}
	}
	s.raw("\n" + indent + "]")
}

// listChunk is how many elements of a list one encoder takes at a time.
const listChunk = 64

// encodeList writes the elements of v (a list of at least two chunks) at inner, as list
// writes them one by one: the lists of a hospital's scan (tens of thousands of flows,
// sessions and assets) are encoded in chunks on a goroutine per core, and the chunks
// written in order, at most two per core ahead of the writer, so that memory holds a
// few chunks' bytes, never the list's; the chunks' buffers are reused.
func (s *jsonStream) encodeList(v reflect.Value, inner string) {
	type chunk struct {
		b    []byte
		err  error
		done chan struct{}
	}
	workers := runtime.GOMAXPROCS(0)
	n := (v.Len() + listChunk - 1) / listChunk
	chunks := make([]chunk, n)
	for i := range chunks {
		chunks[i].done = make(chan struct{})
	}
	jobs := make(chan int)
	ahead := make(chan struct{}, 2*workers) // a token per chunk handed out and not yet written
	// free holds the buffers of chunks written, for the encoders to fill again: at most
	// one per chunk that can be ahead, plus the one being written. A buffer grown by
	// appending from nil for every chunk cost a scan's JSON more in copying
	// (runtime.growslice) than the indenting itself, and memory too: on 14,000 hosts the
	// collections during rendering found 55 MB of chunk buffers live, and the next GC
	// goal is twice what they find (rendering peaked at 423 MB of heap, the peak of the
	// whole scan; 266 MB with the buffers reused).
	free := make(chan []byte, 2*workers+1)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(workers + 1)
	go func() {
		defer wg.Done()
		defer close(jobs)
		for i := range n {
			select {
			case ahead <- struct{}{}:
			case <-stop:
				return
			}
			jobs <- i
		}
	}()
	for range workers {
		go func() {
			defer wg.Done()
			e := &jsonStream{}
			e.enc = json.NewEncoder(&e.buf)
			e.enc.SetEscapeHTML(false)
			for i := range jobs {
				c := &chunks[i]
				select {
				case c.b = <-free:
				default:
				}
				for j := i * listChunk; j < min((i+1)*listChunk, v.Len()); j++ {
					if j > 0 {
						c.b = append(c.b, ',')
					}
					c.b = append(c.b, '\n')
					c.b = append(c.b, inner...)
					if c.b, c.err = e.appendValue(c.b, v.Index(j), inner); c.err != nil {
						break
					}
				}
				close(c.done)
			}
		}()
	}
	for i := range chunks {
		c := &chunks[i]
		<-c.done
		if s.err == nil {
			s.err = c.err
		}
		if s.err != nil {
			break
		}
		_, s.err = s.w.Write(c.b)
		select {
		case free <- c.b[:0]:
		default:
		}
		c.b = nil
		<-ahead
	}
	close(stop) // after an error, the feeder hands out no more chunks
	wg.Wait()
}

// seq writes the findings fs yields as list writes a slice of them, at indent; the
// first error fs yields ends the document.
func (s *jsonStream) seq(fs iter.Seq2[findings.Finding, error], indent string) {
	inner := indent + "  "
	n := 0
	for f, err := range fs {
		if s.err == nil && err != nil {
			s.err = err
		}
		if s.err != nil {
			break
		}
		if n == 0 {
			s.raw("[")
		} else {
			s.raw(",")
		}
		n++
		s.raw("\n" + inner)
		s.value(reflect.ValueOf(&f).Elem(), inner)
	}
	if n == 0 {
		s.raw("[]")
		return
	}
	s.raw("\n" + indent + "]")
}

// emptyValue is encoding/json's test for omitempty.
func emptyValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return v.Float() == 0
	case reflect.Interface, reflect.Pointer:
		return v.IsNil()
	}
	return false
}
