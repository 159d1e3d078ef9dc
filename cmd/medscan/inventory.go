package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/report"
)

// inventoryKinds are the kinds --kind accepts.
var inventoryKinds = []string{observe.KindMedicalDevice, observe.KindMiddleware, observe.KindClinicalServer,
	observe.KindWorkstation, observe.KindInfrastructure, observe.KindUnknown}

// cmdInventory lists the assets of a stored scan with their kinds and the reasons.
func cmdInventory(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("inventory", pflag.ContinueOnError)
	var (
		out outputFlags
		db  storeFlag
	)
	out.register(fs, report.Inventory)
	db.register(fs)
	ref := fs.String("scan", "latest", "which stored scan: `latest`, latest~N, or a scan ID")
	kind := fs.String("kind", "", "list only assets of this `KIND`: "+strings.Join(inventoryKinds, ", "))
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("inventory: unexpected argument %q", fs.Arg(0))}
	}
	if err := out.check("inventory"); err != nil {
		return err
	}
	if *kind != "" && !slices.Contains(inventoryKinds, *kind) {
		return usageError{fmt.Sprintf("inventory: --kind: unknown kind %q (want one of %s)", *kind, strings.Join(inventoryKinds, ", "))}
	}
	st, err := db.read()
	if err != nil {
		return err
	}
	defer st.Close()
	id, err := st.ResolveScan(ctx, *ref, "")
	if err != nil {
		return err
	}
	rep, err := st.Load(ctx, id)
	if err != nil {
		return err
	}
	doc := findings.NewInventory(rep, *kind)
	return write(&out, report.Inventory, doc, stdout)
}
