package main

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	in := "Registry,Assignment,Organization Name,Organization Address\n" +
		"MA-L,00000c,\"Cisco Systems, Inc\",170 WEST TASMAN DRIVE\n" +
		"MA-L,080030,NETWORK RESEARCH CORPORATION,x\n" +
		"MA-L,080030,CERN,y\n" +
		"MA-L,080030,CERN,z\n" +
		"MA-L,AA0000,DIGITAL EQUIPMENT CORPORATION,local bit\n" +
		"MA-L,010000,Group,group bit\n" +
		"MA-L,005056,\"VMware,  Inc.\r\n\t\",\n"
	entries := map[string]string{}
	added, skipped, err := parse(strings.NewReader(in), registry{"oui.csv", "MA-L", 6}, entries)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"00000C": "Cisco Systems, Inc", "080030": "NETWORK RESEARCH CORPORATION / CERN", "005056": "VMware, Inc."}
	if added != 3 || skipped != 2 || len(entries) != len(want) {
		t.Fatalf("added %d, skipped %d, entries %q", added, skipped, entries)
	}
	for k, v := range want {
		if entries[k] != v {
			t.Errorf("entries[%s] = %q, want %q", k, entries[k], v)
		}
	}
}

func TestParseRejects(t *testing.T) {
	const header = "Registry,Assignment,Organization Name,Organization Address\n"
	for name, in := range map[string]string{
		"wrong header":   "a,b,c\n",
		"wrong registry": header + "MA-M,00000C,X,\n",
		"short prefix":   header + "MA-L,00000,X,\n",
		"not hex":        header + "MA-L,00000G,X,\n",
		"no name":        header + "MA-L,00000C, ,\n",
		"too few fields": header + "MA-L,00000C\n",
		"empty":          "",
	} {
		if _, _, err := parse(strings.NewReader(in), registry{"oui.csv", "MA-L", 6}, map[string]string{}); err == nil {
			t.Errorf("%s: parse accepted it", name)
		}
	}
}
