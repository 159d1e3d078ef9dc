// Command densestore saves generated scans of many sites (package densescan) into a
// store, the instrument docs/performance.md uses for `medscan report` at hospital scale:
//
//	go run ./internal/densescan/densestore -sites 1046 -db /tmp/dense46k.db
//	go run ./internal/densescan/densestore -sites 1046 -scans 2 -db /tmp/dense46k-2.db
//
// 1,046 sites make about 40,800 findings on 12,552 assets. With -scans N it saves N
// scans of the same sites, as a hospital's scheduled scans: each later one
// (densescan.Later) with a few findings of the one before gone and a few new, so that
// `medscan report` of the last one has a change section to compute.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/medscan/medscan/internal/densescan"
	"github.com/medscan/medscan/store"
)

func main() {
	sites := flag.Int("sites", 1046, "number of generated sites")
	scans := flag.Int("scans", 1, "number of scans of the sites to save, each a day after the one before")
	db := flag.String("db", "", "store to save the scans into (SQLite file or postgres:// URL; required)")
	flag.Parse()
	if *db == "" || *scans < 1 {
		fmt.Fprintln(os.Stderr, "densestore: -db is required, and -scans at least 1")
		os.Exit(2)
	}
	if err := save(*sites, *scans, *db); err != nil {
		fmt.Fprintln(os.Stderr, "densestore:", err)
		os.Exit(1)
	}
}

func save(sites, scans int, db string) error {
	first := densescan.Report(sites)
	st, err := store.Open(db)
	if err != nil {
		return err
	}
	for k := range scans {
		rep := first
		if k > 0 {
			rep = densescan.Later(first, k)
		}
		id, err := st.Save(context.Background(), rep)
		if err != nil {
			st.Close()
			return err
		}
		fmt.Printf("scan %d: %d findings, %d assets\n", id, len(rep.Findings), len(rep.Assets))
	}
	return st.Close()
}
