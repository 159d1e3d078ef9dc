package loginwire

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"net/netip"
	"strconv"
	"time"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/capture/internal/image"
	"github.com/medscan/medscan/capture/updatekeep"
	"github.com/medscan/medscan/observe"
)

// Limits on following FTP transfers.
const (
	// MaxTransfers is how many data connections one FTP session announces to the engine.
	MaxTransfers = 64
	maxPath      = 1024
)

// xfer is one FTP data connection as the control channel negotiated it: the control
// stream names it (RETR, STOR, ...), the data stream measures it, and whichever finishes
// second emits the observe.FileTransfer.
type xfer struct {
	ctx     *dissect.Context // the control stream's
	named   bool             // a RETR, STOR, APPE or STOU was sent for it
	listing bool             // LIST, NLST or MLSD: a directory listing, not a file
	upload  bool
	path    string
	ended   bool // the data connection ended
	res     observe.FileTransfer
	// keep holds the data connection's bytes for the code-signing examination
	// (package updatekeep) until the transfer is named and ended.
	keep *updatekeep.Body
}

// emit hands the transfer to the sink once both halves are known.
func (x *xfer) emit() {
	if x.listing && x.ended {
		x.keep.Drop("") // a directory listing
		x.keep = nil
	}
	if !x.named || !x.ended || x.listing {
		return
	}
	ft := x.res
	// The path leaves the dissector as a template: a file name can name a patient.
	ft.Flow, ft.Protocol, ft.Upload, ft.Path = x.ctx.Flow, "ftp", x.upload, observe.PathTemplate(x.path)
	ft.URL = observe.TransferURL("ftp", x.ctx.Flow.Server, ft.Path)
	if k := image.PathKind(x.path); k != "" {
		ft.Kind = k
	}
	x.ctx.Sink.AddTransfer(ft)
	x.named = false // once
	if ft.Partial {
		x.keep.Drop(updatekeep.CountGap)
	} else {
		// The device that received the file: the client for a download, the server for an upload.
		to := x.ctx.Flow.Client.Addr()
		if x.upload {
			to = x.ctx.Flow.Server.Addr()
		}
		x.keep.Finish(updatekeep.Meta{Protocol: "ftp", Server: x.ctx.Flow.Server, Client: to, Path: x.path, Kind: ft.Kind,
			Time: ft.FirstSeen})
	}
	x.keep = nil
}

// newData starts the stream of the data connection.
func (x *xfer) newData(*dissect.Context) dissect.Stream {
	return &dataStream{x: x, dir: -1}
}

// dataStream hashes what one data connection carries, in whichever direction that is.
type dataStream struct {
	x           *xfer
	dir         int8
	sum         hash.Hash
	bytes       int64
	partial     bool
	n           int
	prefix      [image.SniffLen]byte
	first, last time.Time
}

// Data implements dissect.Stream.
func (d *dataStream) Data(dir dissect.Direction, b []byte, t time.Time) {
	if len(b) == 0 {
		return
	}
	if d.dir < 0 {
		d.dir = int8(dir)
		d.sum = sha256.New()
		d.first = t
		// Whether it is an image or a signature is known when it ends (its name, its magic).
		d.x.keep = d.x.ctx.Keep.Begin(updatekeep.RoleUnknown)
	}
	if int8(dir) != d.dir {
		return // the file flows one way; the other side has nothing to say
	}
	d.last = t
	d.bytes += int64(len(b))
	if !d.partial {
		d.sum.Write(b)
		d.x.keep.Write(b)
	}
	if d.n < len(d.prefix) {
		d.n += copy(d.prefix[d.n:], b)
	}
}

// Gap implements dissect.Stream: a digest of a file with a hole matches nothing.
func (d *dataStream) Gap(dir dissect.Direction, n int) {
	if d.dir < 0 || int8(dir) == d.dir {
		d.partial = true
		d.bytes += int64(n)
	}
}

// Done implements dissect.Stream.
func (d *dataStream) Done() bool { return false }

// End implements dissect.Stream.
func (d *dataStream) End(t time.Time) {
	x := d.x
	if x.ended {
		return
	}
	x.ended = true
	if d.first.IsZero() {
		d.first, d.last = t, t
	}
	x.res = observe.FileTransfer{FirstSeen: d.first, LastSeen: d.last, Bytes: d.bytes, Partial: d.partial}
	if d.sum != nil && !d.partial {
		var s [sha256.Size]byte
		x.res.SHA256 = hex.EncodeToString(d.sum.Sum(s[:0]))
	}
	x.res.Kind, _ = image.Magic(d.prefix[:d.n], true)
	x.emit()
}

// announce registers the data connection negotiated by PASV, EPSV, PORT or EPRT.
func (s *stream) announce(listener netip.AddrPort, client netip.Addr) {
	if s.ctx.Expect == nil || s.xfers >= MaxTransfers || !listener.IsValid() || listener.Port() == 0 {
		return
	}
	x := &xfer{ctx: s.ctx}
	if s.ctx.Expect(dissect.Expectation{Name: "ftp-data", Listener: listener, Client: client, New: x.newData}) {
		s.xfers++
		s.cur = x
	}
}

// ftpCommand follows the transfer commands of a logged-in FTP session.
func (s *stream) ftpCommand(verb string, arg []byte) {
	switch verb {
	case "PORT":
		if p, ok := portArg(arg); ok {
			s.announce(netip.AddrPortFrom(s.ctx.Flow.Client.Addr(), p), s.ctx.Flow.Server.Addr())
		}
	case "EPRT":
		if p, ok := eprtArg(arg); ok {
			s.announce(netip.AddrPortFrom(s.ctx.Flow.Client.Addr(), p), s.ctx.Flow.Server.Addr())
		}
	case "RETR", "STOR", "APPE", "STOU":
		if x := s.cur; x != nil && !x.named && !x.listing {
			x.named, x.upload = true, verb != "RETR"
			x.path = observe.Text(bytes.TrimSpace(arg), maxPath)
			s.cur = nil
			x.emit()
		}
	case "LIST", "NLST", "MLSD":
		if x := s.cur; x != nil && !x.named {
			x.listing = true
			s.cur = nil
		}
	}
}

// ftpReply follows the passive-mode replies of a logged-in FTP session. The data
// connection goes to the control connection's server address, not the one a 227 reply
// names: behind NAT that is a private address the capture never sees, and taking it
// would let a reply point the dissector at a third host.
func (s *stream) ftpReply(code string, line []byte) {
	var p uint16
	var ok bool
	switch code {
	case "227":
		i := bytes.IndexByte(line, '(')
		j := bytes.LastIndexByte(line, ')')
		if i < 0 || j < i {
			// Some servers omit the parentheses: take the last run of digits and commas.
			i, j = bytes.LastIndexByte(line, ' '), len(line)
		}
		if i >= 0 && j <= len(line) {
			p, ok = portArg(line[i+1 : j])
		}
	case "229":
		if i := bytes.IndexByte(line, '('); i >= 0 {
			if j := bytes.IndexByte(line[i:], ')'); j > 0 {
				p, ok = epsvArg(line[i+1 : i+j])
			}
		}
	default:
		return
	}
	if ok {
		s.announce(netip.AddrPortFrom(s.ctx.Flow.Server.Addr(), p), s.ctx.Flow.Client.Addr())
	}
}

// portArg reads the port of "h1,h2,h3,h4,p1,p2" (RFC 959).
func portArg(b []byte) (uint16, bool) {
	f := bytes.Split(bytes.TrimSpace(b), []byte{','})
	if len(f) != 6 {
		return 0, false
	}
	var v [6]int
	for i, x := range f {
		n, err := strconv.Atoi(string(bytes.TrimSpace(x)))
		if err != nil || n < 0 || n > 255 {
			return 0, false
		}
		v[i] = n
	}
	return uint16(v[4]<<8 | v[5]), true
}

// eprtArg reads the port of "|1|addr|port|" (RFC 2428); the delimiter is the first byte.
func eprtArg(b []byte) (uint16, bool) {
	b = bytes.TrimSpace(b)
	if len(b) < 2 {
		return 0, false
	}
	f := bytes.Split(b[1:], b[:1])
	if len(f) != 4 {
		return 0, false
	}
	return portNum(f[2])
}

// epsvArg reads the port of "|||port|" (RFC 2428).
func epsvArg(b []byte) (uint16, bool) {
	if len(b) < 2 {
		return 0, false
	}
	f := bytes.Split(b[1:], b[:1])
	if len(f) != 4 {
		return 0, false
	}
	return portNum(f[2])
}

func portNum(b []byte) (uint16, bool) {
	n, err := strconv.Atoi(string(b))
	if err != nil || n <= 0 || n > 65535 {
		return 0, false
	}
	return uint16(n), true
}
