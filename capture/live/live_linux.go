//go:build linux

package live

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Hardware types of interfaces this package captures from (linux/if_arp.h).
const (
	arphrdEther    = 1
	arphrdLoopback = 772
	arphrdNone     = 0xfffe // tun and other interfaces carrying bare IP
)

// Handle is an open capture on one interface. ReadPacket and Close must not be called
// concurrently with each other; Stats may be called from any goroutine.
type Handle struct {
	iface    string
	fd       int
	linkType uint32
	loopback bool
	buf      []byte
	oob      []byte
	from     unix.RawSockaddrLinklayer
	iov      unix.Iovec
	msg      unix.Msghdr

	mu      sync.Mutex // guards the counters and fd for Stats
	closed  bool
	packets uint64
	drops   uint64
}

// htons converts a 16-bit value to network byte order, as the socket calls want.
func htons(v uint16) uint16 { return v<<8 | v>>8 }

// Open starts capturing on the named interface. It needs root or CAP_NET_RAW.
func Open(iface string, opt Options) (*Handle, error) {
	opt.defaults()
	ifc, err := net.InterfaceByName(iface)
	if err != nil {
		return nil, fmt.Errorf("live: %s: no such interface", iface)
	}
	// Protocol 0: the socket receives nothing until it is bound, after the filter is on.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, sockErr(iface, "open a packet socket", err)
	}
	h := &Handle{iface: iface, fd: fd}
	fail := func(what string, err error) (*Handle, error) {
		unix.Close(fd)
		return nil, sockErr(iface, what, err)
	}
	if len(opt.Filter) > 0 {
		prog := make([]unix.SockFilter, len(opt.Filter))
		for i, ins := range opt.Filter {
			prog[i] = unix.SockFilter{Code: ins.Op, Jt: ins.Jt, Jf: ins.Jf, K: ins.K}
		}
		if len(prog) > 0xffff {
			return fail("attach the filter", errors.New("program too long"))
		}
		fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
		if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &fprog); err != nil {
			return fail("attach the filter", err)
		}
	}
	// SO_RCVBUFFORCE may exceed net.core.rmem_max (it needs CAP_NET_ADMIN); fall back.
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, opt.BufferSize); err != nil {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, opt.BufferSize); err != nil {
			return fail("set the socket buffer", err)
		}
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
		return fail("enable timestamps", err)
	}
	tv := unix.NsecToTimeval(opt.Timeout.Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return fail("set the read timeout", err)
	}
	sa := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifc.Index}
	if err := unix.Bind(fd, sa); err != nil {
		return fail("bind", err)
	}
	if !opt.NoPromisc {
		mreq := unix.PacketMreq{Ifindex: int32(ifc.Index), Type: unix.PACKET_MR_PROMISC}
		if err := unix.SetsockoptPacketMreq(fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mreq); err != nil {
			return fail("enter promiscuous mode", err)
		}
	}
	got, err := unix.Getsockname(fd)
	if err != nil {
		return fail("read the interface type", err)
	}
	ll, _ := got.(*unix.SockaddrLinklayer)
	if ll == nil {
		return fail("read the interface type", errors.New("not a link-layer address"))
	}
	switch ll.Hatype {
	case arphrdEther:
		h.linkType = LinkEthernet
	case arphrdLoopback:
		// Linux loopback frames carry an Ethernet header of zero addresses.
		h.linkType, h.loopback = LinkEthernet, true
	case arphrdNone:
		h.linkType = LinkRaw
	default:
		unix.Close(fd)
		return nil, fmt.Errorf("live: %s: hardware type %d not supported (Ethernet, loopback and bare-IP interfaces are)", iface, ll.Hatype)
	}
	// Reset the kernel's counters: PACKET_STATISTICS reports (and clears) what
	// accumulated since the last call.
	if _, err := unix.GetsockoptTpacketStats(fd, unix.SOL_PACKET, unix.PACKET_STATISTICS); err != nil {
		return fail("read the statistics", err)
	}
	h.buf = make([]byte, opt.SnapLen)
	h.oob = make([]byte, unix.CmsgSpace(int(unsafe.Sizeof(unix.Timespec{}))))
	h.iov.Base = &h.buf[0]
	h.iov.SetLen(len(h.buf))
	h.msg.Name = (*byte)(unsafe.Pointer(&h.from))
	h.msg.Iov = &h.iov
	h.msg.SetIovlen(1)
	h.msg.Control = &h.oob[0]
	return h, nil
}

// sockErr turns a socket error into a message that says what to do about it.
func sockErr(iface, what string, err error) error {
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return fmt.Errorf("live: %s: capture needs root or CAP_NET_RAW: %w", iface, err)
	}
	if errors.Is(err, unix.ENODEV) || errors.Is(err, unix.ENXIO) {
		return fmt.Errorf("live: %s: no such interface: %w", iface, err)
	}
	return fmt.Errorf("live: %s: %s: %w", iface, what, err)
}

// LinkType returns the pcap link type of the frames: Ethernet for Ethernet and loopback
// interfaces, raw IP for tun-like ones.
func (h *Handle) LinkType() uint32 { return h.linkType }

// ReadPacket returns the next frame and its kernel timestamp. data is valid until the
// next call. It returns ErrTimeout when no frame came within Options.Timeout.
func (h *Handle) ReadPacket() (data []byte, ts time.Time, err error) {
	data, ci, err := h.ReadPacketInfo()
	return data, ci.Timestamp, err
}

// ReadPacketInfo is ReadPacket with the frame's length on the wire and direction, as a
// capture writer needs.
func (h *Handle) ReadPacketInfo() (data []byte, ci CaptureInfo, err error) {
	if h.closed {
		return nil, ci, ErrClosed
	}
	for {
		h.msg.Namelen = uint32(unsafe.Sizeof(h.from))
		h.msg.SetControllen(len(h.oob))
		n, _, errno := unix.Syscall(unix.SYS_RECVMSG, uintptr(h.fd), uintptr(unsafe.Pointer(&h.msg)), unix.MSG_TRUNC)
		if errno != 0 {
			switch errno {
			case unix.EAGAIN, unix.EINTR:
				if errno == unix.EINTR {
					continue
				}
				return nil, ci, ErrTimeout
			case unix.ENETDOWN:
				return nil, ci, fmt.Errorf("live: %s: interface went down: %w", h.iface, errno)
			}
			return nil, ci, fmt.Errorf("live: %s: read: %w", h.iface, errno)
		}
		var skip bool
		data, ci, skip = frame(h.buf, int(n), h.oob[:min(int(h.msg.Controllen), len(h.oob))], h.from.Pkttype, h.loopback, time.Now)
		if skip {
			continue // the incoming copy follows
		}
		return data, ci, nil
	}
}

// frame turns what one recvmsg gave into a frame and its details: buf the bytes read, n
// the frame's length on the wire (MSG_TRUNC), oob the control messages the kernel wrote,
// pkttype the packet type of the sender's sockaddr_ll. skip is true for the outgoing copy
// of a loopback frame, whose incoming copy follows. It reads the kernel's bytes with
// bounds checks rather than pointer casts, and is pure so that it is fuzzed (FuzzFrame).
func frame(buf []byte, n int, oob []byte, pkttype uint8, loopback bool, now func() time.Time) (data []byte, ci CaptureInfo, skip bool) {
	outgoing := pkttype == unix.PACKET_OUTGOING
	if outgoing && loopback {
		return nil, ci, true
	}
	n = max(n, 0)
	ci.Length = n
	ci.Outgoing = outgoing
	ci.Timestamp = stamp(oob, now)
	return buf[:min(n, len(buf))], ci, false
}

// stamp reads the SO_TIMESTAMPNS control message among oob, or now() without one.
func stamp(oob []byte, now func() time.Time) time.Time {
	var ts unix.Timespec
	raw := (*[unsafe.Sizeof(ts)]byte)(unsafe.Pointer(&ts))
	for len(oob) > 0 {
		h, data, rest, err := unix.ParseOneSocketControlMessage(oob) // one at a time: no allocation per frame
		if err != nil {
			break
		}
		if h.Level == unix.SOL_SOCKET && h.Type == unix.SCM_TIMESTAMPNS && len(data) >= len(raw) {
			copy(raw[:], data)
			return time.Unix(int64(ts.Sec), int64(ts.Nsec))
		}
		oob = rest
	}
	return now()
}

// Stats returns the kernel's counters since Open.
func (h *Handle) Stats() (Stats, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return Stats{Received: h.packets, KernelDropped: h.drops}, nil
	}
	st, err := unix.GetsockoptTpacketStats(h.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS)
	if err != nil {
		return Stats{}, fmt.Errorf("live: %s: statistics: %w", h.iface, err)
	}
	h.packets += uint64(st.Packets)
	h.drops += uint64(st.Drops)
	return Stats{Received: h.packets, KernelDropped: h.drops}, nil
}

// Close ends the capture; the interface leaves promiscuous mode with the socket.
func (h *Handle) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil
	}
	if st, err := unix.GetsockoptTpacketStats(h.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS); err == nil {
		h.packets += uint64(st.Packets)
		h.drops += uint64(st.Drops)
	}
	h.closed = true
	if err := unix.Close(h.fd); err != nil {
		return fmt.Errorf("live: %s: close: %w", h.iface, err)
	}
	return nil
}
