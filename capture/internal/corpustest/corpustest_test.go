package corpustest

import (
	"bytes"
	"testing"
)

func TestSplits(t *testing.T) {
	b := []byte("abcd")
	got := Splits(b)
	if len(got) != 2+len(b)-1 {
		t.Fatalf("%d variants", len(got))
	}
	for i, parts := range got {
		if j := bytes.Join(parts, nil); !bytes.Equal(j, b) {
			t.Errorf("variant %d joins to %q", i, j)
		}
	}
	if len(Splits(nil)) != 1 || len(Splits([]byte("x"))) != 1 {
		t.Error("short inputs")
	}
}

func TestTCPStreams(t *testing.T) {
	for _, tc := range []struct {
		file           string // link type in the comment
		streams        int
		client, server string
		clientLen      int
	}{
		{"zeek-http-basic-auth.pcap", 1, "172.24.133.205:43090", "172.24.133.205:8000", 186}, // raw IPv4
		{"suricata-mqtt311-userpass.pcap", 1, "[::1]:38458", "[::1]:1883", 73},               // IPv6
		{"tapirx-dicom-arq-find.pcapng", 1, "127.0.0.1:49531", "127.0.0.1:104", 683},         // pcapng, NULL
		{"tapirx-hl7-adt.pcap", 1, "10.0.0.155:49242", "10.0.0.126:6661", 477},               // Ethernet
	} {
		got := TCPStreams(t, tc.file)
		if len(got) != tc.streams {
			t.Fatalf("%s: %d streams", tc.file, len(got))
		}
		st := got[0]
		if st.Client.String() != tc.client || st.Server.String() != tc.server || len(st.ClientBytes) != tc.clientLen {
			t.Errorf("%s: %v -> %v, %d client bytes", tc.file, st.Client, st.Server, len(st.ClientBytes))
		}
		n := 0
		for _, sg := range st.Segments {
			n += len(sg.Payload)
		}
		if n != len(st.ClientBytes)+len(st.ServerBytes) {
			t.Errorf("%s: segments hold %d bytes", tc.file, n)
		}
	}
	if e := Expected(t, "tapirx-dicom-arq-find.pcapng"); len(e.DICOMAssoc) != 1 || e.DICOMAssoc[0].Calling != "testclient" {
		t.Errorf("expected.json entry = %+v", e)
	}
}

func TestPresentOutsideTheRepository(t *testing.T) {
	t.Chdir(t.TempDir())
	if Present() {
		t.Fatal("corpus found with no go.mod above the working directory")
	}
}
