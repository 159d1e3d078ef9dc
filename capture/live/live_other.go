//go:build !linux

package live

import (
	"fmt"
	"runtime"
	"time"
)

// Handle is an open capture on one interface; on this system none can be opened.
type Handle struct{}

// Open fails: live capture uses Linux AF_PACKET sockets.
func Open(iface string, opt Options) (*Handle, error) {
	return nil, fmt.Errorf("live: %s: live capture needs Linux (this is %s)", iface, runtime.GOOS)
}

// LinkType returns the pcap link type of the frames.
func (h *Handle) LinkType() uint32 { return LinkEthernet }

// ReadPacket returns the next frame.
func (h *Handle) ReadPacket() ([]byte, time.Time, error) { return nil, time.Time{}, ErrClosed }

// ReadPacketInfo returns the next frame and its details.
func (h *Handle) ReadPacketInfo() ([]byte, CaptureInfo, error) { return nil, CaptureInfo{}, ErrClosed }

// Stats returns the kernel's counters since Open.
func (h *Handle) Stats() (Stats, error) { return Stats{}, nil }

// Close ends the capture.
func (h *Handle) Close() error { return nil }
