// Command densestore saves one generated scan of many sites (package densescan) into a
// store, the instrument docs/performance.md uses for `medscan report` at hospital scale:
//
//	go run ./internal/densescan/densestore -sites 1046 -db /tmp/dense46k.db
//
// 1,046 sites make about 40,800 findings on 12,552 assets.
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
	db := flag.String("db", "", "store to save the scan into (SQLite file or postgres:// URL; required)")
	flag.Parse()
	if *db == "" {
		fmt.Fprintln(os.Stderr, "densestore: -db is required")
		os.Exit(2)
	}
	if err := save(*sites, *db); err != nil {
		fmt.Fprintln(os.Stderr, "densestore:", err)
		os.Exit(1)
	}
}

func save(sites int, db string) error {
	rep := densescan.Report(sites)
	st, err := store.Open(db)
	if err != nil {
		return err
	}
	id, err := st.Save(context.Background(), rep)
	if err != nil {
		st.Close()
		return err
	}
	fmt.Printf("scan %d: %d findings, %d assets\n", id, len(rep.Findings), len(rep.Assets))
	return st.Close()
}
