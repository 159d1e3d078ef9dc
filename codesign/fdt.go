package codesign

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// A flattened device tree (FDT, "DTB") is the container of U-Boot FIT images and of
// U-Boot's control DTB, which holds the public keys it verifies them with. The parser
// here reads it through an io.ReaderAt without holding it whole: a FIT embeds its
// kernel and root file system as property values, so a value larger than
// maxFDTInlineValue is kept as an offset and length and read (hashed) as a stream.

// FDT limits: the depth is libfdt's FDT_MAX_DEPTH; the others bound what a hostile
// blob can make the parser allocate.
const (
	fdtMagic          = 0xd00dfeed
	fdtMaxDepth       = 32
	fdtMaxTags        = 100000
	fdtMaxStrings     = 1 << 20
	fdtMaxNameLen     = 256
	maxFDTInlineValue = 64 << 10

	fdtBeginNode = 1
	fdtEndNode   = 2
	fdtProp      = 3
	fdtNop       = 4
	fdtEnd       = 9
)

// fdtHeader is the blob's header (all fields big-endian uint32).
type fdtHeader struct {
	Magic, TotalSize, OffStruct, OffStrings, OffRsvmap, Version, LastCompVersion, BootCPU, SizeStrings, SizeStruct uint32
}

// fdtProperty is one property: its value inline when small, else its place.
type fdtProperty struct {
	name  string
	off   int64 // absolute offset of the value in the blob
	size  int64
	value []byte // nil when larger than maxFDTInlineValue
}

// fdtNode is one node; path is as libfdt's fdt_find_regions builds it ("/",
// "/images", "/images/kernel").
type fdtNode struct {
	name     string
	path     string
	props    []fdtProperty
	children []*fdtNode
}

// fdtTag is one structure-block token, offsets relative to the structure block, as
// fdt_next_tag walks them; the region finder replays them.
type fdtTag struct {
	tag       uint32
	off, next int64
	node      *fdtNode // for FDT_BEGIN_NODE
	prop      string   // for FDT_PROP: the property's name
}

// fdtTree is a parsed blob.
type fdtTree struct {
	hdr     fdtHeader
	r       io.ReaderAt
	root    *fdtNode
	tags    []fdtTag
	strings []byte
}

// parseFDT reads the blob at the start of r (size bytes available). It checks the
// header's blocks lie inside the blob, and that the structure block is well nested and
// ends where the header says.
func parseFDT(r io.ReaderAt, size int64) (*fdtTree, error) {
	var raw [40]byte
	if _, err := r.ReadAt(raw[:], 0); err != nil {
		return nil, fmt.Errorf("FDT header not read: %v", err)
	}
	var h fdtHeader
	if err := binary.Read(bytes.NewReader(raw[:]), binary.BigEndian, &h); err != nil {
		return nil, err
	}
	if h.Magic != fdtMagic {
		return nil, errors.New("not a flattened device tree (bad magic)")
	}
	if h.Version < 17 {
		return nil, fmt.Errorf("FDT version %d not supported (17 expected)", h.Version)
	}
	total := int64(h.TotalSize)
	switch {
	case total > size:
		return nil, fmt.Errorf("FDT claims %d bytes, the file holds %d", total, size)
	case h.OffStruct%4 != 0 || int64(h.OffStruct)+int64(h.SizeStruct) > total || h.OffStruct < 40:
		return nil, errors.New("FDT structure block outside the blob")
	case int64(h.OffStrings)+int64(h.SizeStrings) > total || h.OffStrings < 40:
		return nil, errors.New("FDT strings block outside the blob")
	case h.SizeStrings > fdtMaxStrings:
		return nil, fmt.Errorf("FDT strings block of %d bytes (limit %d)", h.SizeStrings, fdtMaxStrings)
	}
	t := &fdtTree{hdr: h, r: r, strings: make([]byte, h.SizeStrings)}
	if _, err := r.ReadAt(t.strings, int64(h.OffStrings)); err != nil {
		return nil, fmt.Errorf("FDT strings block not read: %v", err)
	}
	if err := t.walk(); err != nil {
		return nil, err
	}
	return t, nil
}

func align4(n int64) int64 { return (n + 3) &^ 3 }

func (t *fdtTree) u32(rel int64) (uint32, error) {
	if rel < 0 || rel+4 > int64(t.hdr.SizeStruct) {
		return 0, errors.New("FDT structure block truncated")
	}
	var b [4]byte
	if _, err := t.r.ReadAt(b[:], int64(t.hdr.OffStruct)+rel); err != nil {
		return 0, err
	}
	return binary.BigEndian.Uint32(b[:]), nil
}

// str is the NUL-terminated string at off in the strings block.
func (t *fdtTree) str(off uint32) (string, error) {
	if int64(off) >= int64(len(t.strings)) {
		return "", errors.New("FDT property name outside the strings block")
	}
	s := t.strings[off:]
	i := bytes.IndexByte(s, 0)
	if i < 0 {
		return "", errors.New("FDT property name not terminated")
	}
	return string(s[:i]), nil
}

// walk reads the structure block into nodes and the tag list.
func (t *fdtTree) walk() error {
	var stack []*fdtNode
	base := int64(t.hdr.OffStruct)
	limit := int64(t.hdr.SizeStruct)
	for off := int64(0); ; {
		if len(t.tags) >= fdtMaxTags {
			return fmt.Errorf("FDT with more than %d tokens", fdtMaxTags)
		}
		tag, err := t.u32(off)
		if err != nil {
			return err
		}
		tk := fdtTag{tag: tag, off: off}
		switch tag {
		case fdtBeginNode:
			if len(stack) >= fdtMaxDepth {
				return fmt.Errorf("FDT nested deeper than %d", fdtMaxDepth)
			}
			if len(stack) == 0 && t.root != nil {
				return errors.New("FDT with two root nodes")
			}
			n := min(int64(fdtMaxNameLen+1), limit-off-4)
			if n <= 0 {
				return errors.New("FDT structure block truncated")
			}
			buf := make([]byte, n)
			if _, err := t.r.ReadAt(buf, base+off+4); err != nil {
				return err
			}
			i := bytes.IndexByte(buf, 0)
			if i < 0 {
				return errors.New("FDT node name not terminated (or longer than 256 bytes)")
			}
			node := &fdtNode{name: string(buf[:i])}
			switch {
			case len(stack) == 0:
				node.path = "/"
			case len(stack) == 1:
				node.path = "/" + node.name
			default:
				node.path = stack[len(stack)-1].path + "/" + node.name
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.children = append(p.children, node)
			} else {
				t.root = node
			}
			stack = append(stack, node)
			tk.node = node
			tk.next = align4(off + 4 + int64(i) + 1)
		case fdtEndNode:
			if len(stack) == 0 {
				return errors.New("FDT end of node without a node")
			}
			stack = stack[:len(stack)-1]
			tk.next = off + 4
		case fdtProp:
			if len(stack) == 0 {
				return errors.New("FDT property outside a node")
			}
			ln, err := t.u32(off + 4)
			if err != nil {
				return err
			}
			nameoff, err := t.u32(off + 8)
			if err != nil {
				return err
			}
			name, err := t.str(nameoff)
			if err != nil {
				return err
			}
			p := fdtProperty{name: name, off: base + off + 12, size: int64(ln)}
			if off+12+int64(ln) > limit {
				return fmt.Errorf("FDT property %q runs past the structure block", name)
			}
			if ln <= maxFDTInlineValue {
				p.value = make([]byte, ln)
				if _, err := t.r.ReadAt(p.value, p.off); err != nil {
					return err
				}
			}
			node := stack[len(stack)-1]
			node.props = append(node.props, p)
			tk.prop = name
			tk.next = align4(off + 12 + int64(ln))
		case fdtNop:
			tk.next = off + 4
		case fdtEnd:
			tk.next = off + 4
		default:
			return fmt.Errorf("FDT token %#x at %d not known", tag, off)
		}
		if tk.next > limit {
			return errors.New("FDT structure block truncated")
		}
		t.tags = append(t.tags, tk)
		if tag == fdtEnd {
			if len(stack) != 0 || t.root == nil {
				return errors.New("FDT ends inside a node")
			}
			if tk.next != limit {
				return errors.New("FDT structure block does not end where its header says")
			}
			return nil
		}
		off = tk.next
	}
}

// prop is a node's property by name.
func (n *fdtNode) prop(name string) (fdtProperty, bool) {
	for _, p := range n.props {
		if p.name == name {
			return p, true
		}
	}
	return fdtProperty{}, false
}

// str is a string property's first string ("" when absent or not a string).
func (n *fdtNode) str(name string) string {
	p, ok := n.prop(name)
	if !ok || p.value == nil {
		return ""
	}
	s := p.value
	if i := bytes.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	return string(s)
}

// strs is a string-list property's strings.
func (n *fdtNode) strs(name string) []string {
	p, ok := n.prop(name)
	if !ok || p.value == nil {
		return nil
	}
	var out []string
	for _, s := range bytes.Split(bytes.TrimSuffix(p.value, []byte{0}), []byte{0}) {
		out = append(out, string(s))
	}
	return out
}

// u32 is a one-cell property's value.
func (n *fdtNode) u32(name string) (uint32, bool) {
	p, ok := n.prop(name)
	if !ok || len(p.value) != 4 {
		return 0, false
	}
	return binary.BigEndian.Uint32(p.value), true
}

// child is the named child node.
func (n *fdtNode) child(name string) *fdtNode {
	if n == nil {
		return nil
	}
	for _, c := range n.children {
		if c.name == name {
			return c
		}
	}
	return nil
}

// fdtRegion is a byte range of the blob (absolute offset).
type fdtRegion struct{ off, size int64 }

// findRegions is U-Boot's fdt_find_regions (lib/libfdt/fdt_region.c) without the
// string table: the parts of the structure block a configuration signature covers —
// the nodes named in inc with their properties (less those named in exc), and the
// begin/end tokens of their ancestors and direct subnodes — in blob order. It follows
// the C token by token, since one byte more or less fails the signature.
func (t *fdtTree) findRegions(inc, exc []string) ([]fdtRegion, error) {
	in := func(s string, list []string) bool {
		for _, x := range list {
			if x == s {
				return true
			}
		}
		return false
	}
	base := int64(t.hdr.OffStruct)
	var out []fdtRegion
	var stack [fdtMaxDepth]int
	depth, want := -1, 0
	start := int64(-1)
	for _, tk := range t.tags {
		include := 0
		stopAt := tk.next
		switch tk.tag {
		case fdtProp:
			if want >= 2 {
				include = 1
			}
			stopAt = tk.off
			if in(tk.prop, exc) {
				include = 0
			}
		case fdtNop:
			if want >= 2 {
				include = 1
			}
			stopAt = tk.off
		case fdtBeginNode:
			depth++
			if depth >= fdtMaxDepth {
				return nil, errors.New("FDT nested too deep")
			}
			if len(tk.node.path)+2 >= 200 {
				// U-Boot's path buffer is 200 bytes: it fails such a blob.
				return nil, errors.New("FDT node path too long for U-Boot")
			}
			stack[depth] = want
			if want == 1 {
				stopAt = tk.off
			}
			switch {
			case in(tk.node.path, inc):
				want = 2
			case want > 0:
				want--
			default:
				stopAt = tk.off
			}
			include = want
		case fdtEndNode:
			if depth < 0 {
				return nil, errors.New("FDT end of node without a node")
			}
			include = want
			want = stack[depth]
			depth--
		case fdtEnd:
			include = 1
		}
		if include != 0 && start == -1 {
			if n := len(out); n > 0 && tk.off == out[n-1].off+out[n-1].size-base {
				start = out[n-1].off - base
				out = out[:n-1]
			} else {
				start = tk.off
			}
		}
		if include == 0 && start != -1 {
			out = append(out, fdtRegion{off: base + start, size: stopAt - start})
			start = -1
		}
	}
	// The region holding the FDT_END token (merged with the one before it when they
	// touch), as the C adds after its loop.
	if start >= 0 {
		end := t.tags[len(t.tags)-1].next
		out = append(out, fdtRegion{off: base + start, size: end - start})
	}
	return out, nil
}
