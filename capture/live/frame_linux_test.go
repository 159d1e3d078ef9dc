//go:build linux

package live

import (
	"bytes"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// cmsg builds one control message as the kernel writes it: header, data, padding.
func cmsg(level, typ int32, data []byte) []byte {
	b := make([]byte, unix.CmsgSpace(len(data)))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level, h.Type = level, typ
	h.SetLen(unix.CmsgLen(len(data)))
	copy(b[unix.CmsgLen(0):], data)
	return b
}

// timestampns is the SCM_TIMESTAMPNS message of t, as recvmsg gives it.
func timestampns(t time.Time) []byte {
	ts := unix.NsecToTimespec(t.UnixNano())
	raw := (*[unsafe.Sizeof(ts)]byte)(unsafe.Pointer(&ts))
	return cmsg(unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, raw[:])
}

var (
	kernelTime = time.Date(2026, 3, 2, 8, 0, 0, 123456789, time.UTC)
	readTime   = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
)

func readNow() time.Time { return readTime }

func TestFrame(t *testing.T) {
	frameBytes := []byte("0123456789")
	tests := []struct {
		name     string
		n        int
		oob      []byte
		pkttype  uint8
		loopback bool
		data     string
		length   int
		ts       time.Time
		out      bool
		skip     bool
	}{
		{"received, stamped", 10, timestampns(kernelTime), unix.PACKET_HOST, false, "0123456789", 10, kernelTime, false, false},
		{"cut by the snap length", 1500, timestampns(kernelTime), unix.PACKET_HOST, false, "0123456789", 1500, kernelTime, false, false},
		{"shorter than the buffer", 4, nil, unix.PACKET_BROADCAST, false, "0123", 4, readTime, false, false},
		{"no control message", 10, nil, unix.PACKET_HOST, false, "0123456789", 10, readTime, false, false},
		{"another message first", 10, append(cmsg(unix.SOL_SOCKET, unix.SCM_RIGHTS, []byte{1, 0, 0, 0}), timestampns(kernelTime)...),
			unix.PACKET_HOST, false, "0123456789", 10, kernelTime, false, false},
		{"timestamp message too short", 10, cmsg(unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, []byte{1, 2, 3}), unix.PACKET_HOST, false,
			"0123456789", 10, readTime, false, false},
		{"header cut", 10, timestampns(kernelTime)[:unix.CmsgLen(0)-1], unix.PACKET_HOST, false, "0123456789", 10, readTime, false, false},
		{"header claims more than there is", 10, func() []byte {
			b := timestampns(kernelTime)
			(*unix.Cmsghdr)(unsafe.Pointer(&b[0])).SetLen(4096)
			return b
		}(), unix.PACKET_HOST, false, "0123456789", 10, readTime, false, false},
		{"outgoing", 10, timestampns(kernelTime), unix.PACKET_OUTGOING, false, "0123456789", 10, kernelTime, true, false},
		{"outgoing on loopback", 10, timestampns(kernelTime), unix.PACKET_OUTGOING, true, "", 0, time.Time{}, false, true},
		{"incoming on loopback", 10, timestampns(kernelTime), unix.PACKET_HOST, true, "0123456789", 10, kernelTime, false, false},
		{"negative length", -5, nil, unix.PACKET_HOST, false, "", 0, readTime, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data, ci, skip := frame(frameBytes, tc.n, tc.oob, tc.pkttype, tc.loopback, readNow)
			if skip != tc.skip || string(data) != tc.data || ci.Length != tc.length || ci.Outgoing != tc.out || !ci.Timestamp.Equal(tc.ts) {
				t.Errorf("frame = %q %+v skip %v, want %q length %d at %v outgoing %v skip %v",
					data, ci, skip, tc.data, tc.length, tc.ts, tc.out, tc.skip)
			}
		})
	}
}

// FuzzFrame: whatever the kernel's control messages, frame length and packet type, a
// frame is a prefix of the bytes read, no longer than its length on the wire, stamped
// by an SCM_TIMESTAMPNS message or the read's own time, and skipped only as the
// outgoing copy of a loopback frame.
func FuzzFrame(f *testing.F) {
	f.Add([]byte("\x00\x00\x00\x00\x00\x00\xff\xff\xff\xff\xff\xff\x08\x00E"), 60, timestampns(kernelTime), uint8(unix.PACKET_HOST), false)
	f.Add([]byte("abc"), 3, append(cmsg(unix.SOL_SOCKET, unix.SCM_RIGHTS, []byte{1, 0, 0, 0}), timestampns(kernelTime)...),
		uint8(unix.PACKET_OUTGOING), true)
	f.Add([]byte{}, 0, cmsg(unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, []byte{1, 2, 3}), uint8(unix.PACKET_MULTICAST), false)
	f.Fuzz(func(t *testing.T, buf []byte, n int, oob []byte, pkttype uint8, loopback bool) {
		data, ci, skip := frame(buf, n, oob, pkttype, loopback, readNow)
		outgoing := pkttype == unix.PACKET_OUTGOING
		if skip != (outgoing && loopback) {
			t.Fatalf("skip %v for packet type %d on loopback %v", skip, pkttype, loopback)
		}
		if skip {
			return
		}
		if !bytes.HasPrefix(buf, data) || len(data) > max(n, 0) || ci.Length < len(data) || ci.Outgoing != outgoing {
			t.Fatalf("frame %q %+v of %q, n %d", data, ci, buf, n)
		}
		if ci.Timestamp.Equal(readTime) {
			return
		}
		for rest := oob; len(rest) > 0; {
			h, data, next, err := unix.ParseOneSocketControlMessage(rest)
			if err != nil {
				break
			}
			if h.Level == unix.SOL_SOCKET && h.Type == unix.SCM_TIMESTAMPNS && len(data) >= int(unsafe.Sizeof(unix.Timespec{})) {
				ts := *(*unix.Timespec)(unsafe.Pointer(&bytes.Clone(data)[0]))
				if want := time.Unix(int64(ts.Sec), int64(ts.Nsec)); !ci.Timestamp.Equal(want) {
					t.Fatalf("stamped %v, the first timestamp message says %v", ci.Timestamp, want)
				}
				return
			}
			rest = next
		}
		t.Fatalf("stamped %v without a timestamp message", ci.Timestamp)
	})
}
