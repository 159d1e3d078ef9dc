package scan

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	capbpf "github.com/medscan/medscan/capture/bpf"
	"github.com/medscan/medscan/capture/live"
	"github.com/medscan/medscan/capture/pcapwrite"
)

// afSource is a live.Handle (an AF_PACKET socket) as a packetSource.
type afSource struct{ h *live.Handle }

// openAFPacket opens iface with the filter compiled for its link type. The link type
// is only known once the socket is open, and the filter must be on before the socket
// is bound, so an interface that is not Ethernet is opened a second time with the
// filter compiled for what it is; the first socket is closed unread.
func openAFPacket(iface string, opt sourceOptions) (packetSource, error) {
	lopt := live.Options{SnapLen: opt.SnapLen, NoPromisc: !opt.Promisc, Timeout: opt.Timeout}
	link := uint32(live.LinkEthernet)
	for range 2 {
		if opt.BPF != "" {
			prog, err := capbpf.Compile(opt.BPF, link, opt.SnapLen)
			if err != nil {
				return nil, fmt.Errorf("filter %q: %w", opt.BPF, err)
			}
			lopt.Filter = prog
		}
		h, err := live.Open(iface, lopt)
		if err != nil {
			return nil, err
		}
		if opt.BPF == "" || h.LinkType() == link {
			return &afSource{h: h}, nil
		}
		link = h.LinkType()
		h.Close()
	}
	return nil, fmt.Errorf("interface %s: its link type changed while it was opened", iface)
}

func (s *afSource) ReadPacket() ([]byte, time.Time, int, error) {
	data, ci, err := s.h.ReadPacketInfo()
	if errors.Is(err, live.ErrTimeout) {
		return nil, ci.Timestamp, 0, errTimeout
	}
	return data, ci.Timestamp, ci.Length, err
}

func (s *afSource) LinkType() uint32 { return s.h.LinkType() }

func (s *afSource) KernelDropped() (uint64, error) {
	st, err := s.h.Stats()
	return st.KernelDropped, err
}

func (s *afSource) Close() error { return s.h.Close() }

// openRotator opens the pcap series of one interface in opt.WritePcapDir, named after
// the interface. The total cap is shared equally between the interfaces, so that all
// of them together stay under it.
func openRotator(iface string, linkType uint32, opt LiveOptions) (packetWriter, error) {
	share := opt.PcapMaxTotalBytes
	if share <= 0 {
		share = pcapwrite.DefaultMaxTotalBytes
	}
	share /= int64(max(len(opt.Ifaces), 1))
	maxFile := opt.PcapMaxFileBytes
	if maxFile <= 0 {
		maxFile = pcapwrite.DefaultMaxFileBytes
	}
	maxFile = min(maxFile, share)
	w, err := pcapwrite.NewRotator(opt.WritePcapDir, pcapwrite.RotateOptions{MaxFileBytes: maxFile,
		MaxFileAge: opt.PcapMaxFileAge, MaxTotalBytes: share, LinkType: linkType, SnapLen: opt.SnapLen,
		Prefix: pcapPrefix(iface)})
	if err != nil {
		return nil, fmt.Errorf("--write-pcap %s: %w", opt.WritePcapDir, err)
	}
	return w, nil
}

// checkPcapDir creates dir if needed and writes a file there, so that a directory that
// cannot be written (read-only, full, not a directory) is an error before the capture
// starts rather than at its first packet.
func checkPcapDir(dir string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("--write-pcap %s: %w", dir, errors.Unwrap(err))
	}
	probe, err := os.CreateTemp(dir, ".medscan-write-test-*")
	if err == nil {
		_, err = probe.Write(make([]byte, 4096))
		if cerr := probe.Close(); err == nil {
			err = cerr
		}
		os.Remove(probe.Name())
	}
	if err != nil {
		return fmt.Errorf("--write-pcap %s: cannot write there: %w", dir, err)
	}
	return nil
}

// pcapPrefix names an interface's pcap files. The rotator counts PREFIX-*.pcap as its
// own, so a dash in the name would let interface "eth0" claim (and delete) the files of
// "eth0-x": dashes become underscores.
func pcapPrefix(iface string) string { return "medscan_" + strings.ReplaceAll(iface, "-", "_") }
