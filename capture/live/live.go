package live

import (
	"errors"
	"time"

	"golang.org/x/net/bpf"
)

// Defaults for the zero values of Options.
const (
	DefaultSnapLen    = 262144
	DefaultBufferSize = 8 << 20
	DefaultTimeout    = 200 * time.Millisecond
)

// Link types LinkType reports (pcap LINKTYPE_ values, as package capture decodes them).
const (
	LinkEthernet = 1
	LinkRaw      = 101
)

// ErrTimeout is returned by ReadPacket when no frame arrived within Options.Timeout;
// callers check for cancellation and read again.
var ErrTimeout = errors.New("live: read timed out")

// ErrClosed is returned by ReadPacket after Close.
var ErrClosed = errors.New("live: handle closed")

// Options configure a capture; the zero value is a sensible default.
type Options struct {
	// SnapLen is how many bytes of each frame are kept; DefaultSnapLen when zero.
	SnapLen int
	// NoPromisc leaves the interface out of promiscuous mode (the default puts it in,
	// as a SPAN port needs: its frames are addressed to other hosts).
	NoPromisc bool
	// Filter is a classic BPF program run by the kernel on every frame (see package
	// capture/bpf); nil keeps every frame. Its return value cuts the frame in the
	// kernel, which then reports the cut length as the wire length: compile it with a
	// snapshot length of at least SnapLen (bpf.DefaultSnapLen is) and let SnapLen cut.
	Filter []bpf.RawInstruction
	// BufferSize is the socket receive buffer in bytes, which absorbs bursts while the
	// reader is busy; DefaultBufferSize when zero.
	BufferSize int
	// Timeout bounds how long ReadPacket waits; DefaultTimeout when zero.
	Timeout time.Duration
}

// Stats are the kernel's counters for a Handle, since Open.
type Stats struct {
	Received      uint64 // frames that passed the filter, the dropped ones included
	KernelDropped uint64 // frames the kernel dropped because the socket buffer was full
}

// CaptureInfo describes the frame ReadPacketInfo returned.
type CaptureInfo struct {
	Timestamp time.Time
	Length    int  // length on the wire, at least len(data)
	Outgoing  bool // sent by this host rather than received
}

func (o *Options) defaults() {
	if o.SnapLen <= 0 {
		o.SnapLen = DefaultSnapLen
	}
	if o.BufferSize <= 0 {
		o.BufferSize = DefaultBufferSize
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
}
