// Package live captures frames from a network interface, for medscan's live scan of a
// SPAN port or tap.
//
// It uses Linux AF_PACKET sockets through golang.org/x/sys/unix, so the default build
// needs neither cgo nor libpcap; on other systems Open returns an error. It owns the
// socket and its options — promiscuous mode, the classic BPF filter (compiled by
// package capture/bpf), the socket buffer, the read timeout — and the kernel's counters
// of received and dropped frames.
//
// Invariants and choices:
//
//   - The filter is attached before the socket is bound to the interface, so no frame
//     reaches the caller unfiltered.
//   - Frames the host itself sends (packet type PACKET_OUTGOING) are kept — on a veth or
//     an interface carrying the sensor's own traffic they are half of each conversation —
//     except on a loopback interface, where the kernel shows every frame twice, once
//     outgoing and once incoming: there only the incoming copy is kept. A SPAN or tap
//     port carries no outgoing frames at all.
//   - ReadPacket makes one recvmsg call per frame and does not allocate: the frame is
//     returned in a buffer owned by the Handle, valid until the next call. Timestamps are
//     the kernel's receive time (SO_TIMESTAMPNS).
//   - A read waits at most Options.Timeout and then returns ErrTimeout, so that a caller
//     can check for cancellation between reads without closing the socket under a
//     blocked read.
//   - Errors name the interface and say what to do: a missing interface, a missing
//     privilege (root or CAP_NET_RAW).
package live
