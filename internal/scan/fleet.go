package scan

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/store"
)

// fleetSource names the problems of reading other sites' observations.
const fleetSource = "fleet"

// readFleet fills set.Fleet, begun by the caller with the scan's site, with what other
// sites' scans in the store saw of this scan's keys and secrets, so that the rules that
// judge sharing see across every site (observe.Fleet). A failure is a problem of the
// scan, not a reason to lose it: the rules then judge the scan alone. Each call replaces
// what an earlier one read (a live scan judges again at each checkpoint).
func readFleet(ctx context.Context, st *store.Store, set *observe.Set) {
	if st == nil || set.Fleet == nil {
		return
	}
	set.Problems = slices.DeleteFunc(set.Problems, func(p observe.Problem) bool { return p.Source == fleetSource })
	f := set.Fleet
	f.Keys, f.Credentials, f.Senders, f.Dropped = nil, nil, nil, 0
	var spkis, hashes []string
	for _, c := range set.Certificates {
		if c != nil && c.Facts != nil && c.Facts.SPKISHA256 != "" {
			spkis = append(spkis, c.Facts.SPKISHA256)
		}
	}
	for _, cr := range set.Credentials {
		if cr.Hash != "" {
			hashes = append(hashes, cr.Hash)
		}
	}
	receivers := map[string]bool{} // the addresses HL7 or DICOM was sent to
	for _, m := range set.HL7 {
		if !m.IsAck {
			receivers[m.Flow.Server.Addr().Unmap().String()] = true
		}
	}
	for _, d := range set.DICOM {
		receivers[d.Flow.Server.Addr().Unmap().String()] = true
	}
	keys, droppedKeys, err := st.FleetKeys(ctx, f.Site, spkis)
	if err == nil {
		f.Keys = keys
		var creds []observe.FleetCredential
		var droppedCreds int
		creds, droppedCreds, err = st.FleetCredentials(ctx, f.Site, st.KeyID(), hashes)
		f.Credentials, f.Dropped = creds, droppedKeys+droppedCreds
	}
	if err == nil {
		var senders []observe.FleetSender
		var droppedSenders int
		senders, droppedSenders, err = st.FleetSenders(ctx, f.Site, slices.Sorted(maps.Keys(receivers)))
		f.Senders, f.Dropped = senders, f.Dropped+droppedSenders
	}
	if err != nil {
		set.Problem(observe.Problem{Source: fleetSource, Offset: -1,
			Message: fmt.Sprintf("other sites not compared: %v", err)})
	}
	if f.Dropped > 0 {
		set.Problem(observe.Problem{Source: fleetSource, Offset: -1,
			Message: fmt.Sprintf("%d observation(s) of other sites past the cap were not compared", f.Dropped)})
	}
}
