package store

import (
	"context"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/internal/secretkey"
	"github.com/medscan/medscan/observe"
)

// siteInfo is testInfo at a site.
func siteInfo(site string) findings.ScanInfo {
	info := testInfo()
	info.Site = site
	return info
}

// TestSitesHistoryAndResolve: the history pairs scans of one site and label only;
// "latest" of a site is that site's; a scan of another site is refused by number.
func TestSitesHistoryAndResolve(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	north1 := mustSave(t, s, siteInfo("north"), fullSet(), testFindings())
	south1 := mustSave(t, s, siteInfo("south"), fullSet(), testFindings())
	north2 := mustSave(t, s, siteInfo("north"), fullSet(), testFindings())
	south2 := mustSave(t, s, siteInfo("south"), fullSet(), testFindings())
	for _, tc := range []struct {
		id, prev int64
		ok       bool
	}{{north1, 0, false}, {south1, 0, false}, {north2, north1, true}, {south2, south1, true}} {
		prev, ok, err := s.PreviousScan(ctx, tc.id)
		if err != nil || ok != tc.ok || prev != tc.prev {
			t.Errorf("PreviousScan(%d) = %d, %v, %v; want %d, %v", tc.id, prev, ok, err, tc.prev, tc.ok)
		}
	}
	for _, tc := range []struct {
		ref, site string
		want      int64
		err       string
	}{
		{"latest", "north", north2, ""},
		{"latest~1", "south", south1, ""},
		{"", "south", south2, ""},
		{"latest", "east", 0, `no network run of site "east"`},
		{"latest~2", "north", 0, "no scan latest~2"},
		{"2", "south", south1, ""},
		{"2", "north", 0, `scan 2 is of site "south", not "north"`},
	} {
		got, err := s.ResolveSiteScan(ctx, tc.ref, "", tc.site)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ResolveSiteScan(%q, %q) = %d, %v; want an error with %q", tc.ref, tc.site, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ResolveSiteScan(%q, %q) = %d, %v; want %d", tc.ref, tc.site, got, err, tc.want)
		}
	}
	if id, err := s.ResolveScan(ctx, "latest", ""); err != nil || id != south2 {
		t.Errorf("ResolveScan(latest) = %d, %v: want the latest of any site, %d", id, err, south2)
	}
	// One address at two sites is two assets; the same site's second scan adds none.
	if n := count(t, s, "SELECT count(*) FROM assets"); n != 2*len(mustLoad(t, s, north1).Assets) {
		t.Errorf("%d asset rows for two sites of %d addresses", n, len(mustLoad(t, s, north1).Assets))
	}
	// Each scan's rows that cross-site queries read carry its site.
	if n := count(t, s, "SELECT count(*) FROM cert_sightings g JOIN scans c ON c.id = g.scan_id WHERE g.site <> c.site"); n != 0 {
		t.Errorf("%d sightings with another site than their scan's", n)
	}
	if n := count(t, s, "SELECT count(*) FROM scan_findings f JOIN scans c ON c.id = f.scan_id WHERE f.site <> c.site OR f.site = ''"); n != 0 {
		t.Errorf("%d scan findings with another site than their scan's", n)
	}
	// Fingerprints name what was seen, not who saw it.
	a, b := mustLoad(t, s, north1), mustLoad(t, s, south1)
	if a.Scan.Site != "north" || b.Scan.Site != "south" || len(a.Findings) == 0 {
		t.Fatalf("sites %q %q, %d findings", a.Scan.Site, b.Scan.Site, len(a.Findings))
	}
	for i := range a.Findings {
		if a.Findings[i].Fingerprint != b.Findings[i].Fingerprint {
			t.Errorf("finding %s: fingerprint %s at north, %s at south", a.Findings[i].Rule, a.Findings[i].Fingerprint,
				b.Findings[i].Fingerprint)
		}
	}
}

// TestFleetQueries: keys and secrets of other sites, never this site's own, and secrets
// only when hashed under the same key.
func TestFleetQueries(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	spkiA, spkiB := hexSHA([]byte("key a")), hexSHA([]byte("key b"))
	north := siteInfo("north")
	mustSave(t, s, north, keySet(t0, map[string][3]string{"10.0.0.11:443": {"pump-1", "rsa", spkiA}}), nil)
	south := siteInfo("south")
	mustSave(t, s, south, keySet(t0, map[string][3]string{
		"10.0.0.12:443": {"pump-2", "rsa", spkiA}, "10.0.0.20:443": {"ehr", "rsa", spkiB}}), nil)

	keys, dropped, err := s.FleetKeys(ctx, "north", []string{spkiA, spkiB, hexSHA([]byte("unseen"))})
	if err != nil || dropped != 0 {
		t.Fatal(err, dropped)
	}
	var got []string
	for _, k := range keys {
		got = append(got, k.Site+" "+k.Host+" "+k.Subject+" "+k.SPKISHA256[:4])
	}
	want := []string{"south 10.0.0.12 CN=pump-2 " + spkiA[:4], "south 10.0.0.20 CN=ehr " + spkiB[:4]}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("FleetKeys = %v, want %v", got, want)
	}
	if keys, _, _ := s.FleetKeys(ctx, "south", []string{spkiB}); len(keys) != 0 {
		t.Errorf("a site's own keys come back as another's: %v", keys)
	}

	// Credentials: the same secret at two sites, hashed under this store's key; a third
	// site's scan made under another key never compares.
	h := observe.NewSecretHasher(s.SecretKey())
	_, hash := h.Hide([]byte("fleet-secret"))
	credSet := func(client string, hash string) *observe.Set {
		set := observe.NewSet()
		set.AddCredential(observe.Credential{Flow: observe.Flow{Client: ap(client), Server: ap("10.0.0.40:8080")},
			FirstSeen: t0, Protocol: "http", Kind: "api-key-header", Preview: "fl****et", Hash: hash})
		return set
	}
	// Each sensor of a site keeps its own series (label): the keys' series stays current.
	southCreds := south
	southCreds.Label = "south mqtt"
	mustSave(t, s, southCreds, credSet("10.0.0.31:40000", hash), nil)
	if _, err := s.db.Exec("UPDATE scans SET key_id = 'another' WHERE id = (SELECT max(id) FROM scans)"); err != nil {
		t.Fatal(err)
	}
	mustSave(t, s, siteInfo("west"), credSet("10.0.0.32:40000", hash), nil)
	creds, _, err := s.FleetCredentials(ctx, "north", s.KeyID(), []string{hash})
	if err != nil {
		t.Fatal(err)
	}
	if len(creds) != 1 || creds[0].Site != "west" || creds[0].Client != "10.0.0.32" || creds[0].Server != "10.0.0.40:8080" {
		t.Errorf("FleetCredentials = %+v; want west's alone (south's was hashed under another key)", creds)
	}
	if creds, _, _ := s.FleetCredentials(ctx, "north", "", []string{hash}); len(creds) != 0 {
		t.Errorf("an unknown key compared: %+v", creds)
	}
	if sites, err := s.KeySites(ctx, spkiA); err != nil || !slices.Equal(sites, []string{"north", "south"}) {
		t.Errorf("KeySites = %v, %v", sites, err)
	}

	// Clinical senders: south's pump sends HL7 to the engine at 10.0.0.7 (fullSet), and
	// its CT associates with 10.0.0.42; an acknowledgement is no sender.
	set := fullSet()
	set.AddHL7(observe.HL7Message{Flow: observe.Flow{Client: ap("10.0.0.66:3000"), Server: ap("10.0.0.7:6661")},
		FirstSeen: t0, IsAck: true, ReceivingApp: "ACKED"})
	southClinical := south
	southClinical.Label = "south clinical"
	mustSave(t, s, southClinical, set, nil)
	senders, _, err := s.FleetSenders(ctx, "north", []string{"10.0.0.7", "10.0.0.42"})
	if err != nil {
		t.Fatal(err)
	}
	var gotSenders []string
	for _, x := range senders {
		gotSenders = append(gotSenders, x.Site+" "+x.Protocol+" "+x.Client+" "+x.Server+" "+x.App)
	}
	slices.Sort(gotSenders)
	if want := []string{"south dicom 10.0.0.41 10.0.0.42 PACS", "south hl7 10.0.0.40 10.0.0.7 EMR"}; !slices.Equal(gotSenders, want) {
		t.Errorf("FleetSenders = %q, want %q", gotSenders, want)
	}
	if senders, _, _ := s.FleetSenders(ctx, "south", []string{"10.0.0.7"}); len(senders) != 0 {
		t.Errorf("a site's own senders come back as another's: %v", senders)
	}

	// South's next scan of the keys' series: pump-2 has a key of its own now, and the
	// engine stopped receiving. What south's older scans saw no longer counts; its
	// other series stay current.
	mustSave(t, s, south, keySet(t0.Add(time.Hour), map[string][3]string{
		"10.0.0.12:443": {"pump-2 renewed", "rsa", hexSHA([]byte("key c"))}, "10.0.0.20:443": {"ehr", "rsa", spkiB}}), nil)
	keys, _, err = s.FleetKeys(ctx, "north", []string{spkiA, spkiB})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0].Host != "10.0.0.20" {
		t.Errorf("after south replaced pump-2's key, FleetKeys = %+v; want the EHR's alone", keys)
	}
	if creds, _, _ := s.FleetCredentials(ctx, "north", s.KeyID(), []string{hash}); len(creds) != 1 {
		t.Errorf("another series' scan changed the credentials: %+v", creds)
	}
	mustSave(t, s, southClinical, observe.NewSet(), nil)
	if senders, _, _ := s.FleetSenders(ctx, "north", []string{"10.0.0.7", "10.0.0.42"}); len(senders) != 0 {
		t.Errorf("senders of south's older clinical scan still count: %+v", senders)
	}
}

// TestSync: every scan of one store copied into another with its site, uid, times and
// key; a second sync adds nothing; first and last seen widen.
func TestSync(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "secret.key")
	src, err := OpenKeyed(filepath.Join(dir, "site.db"), keyFile)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := OpenKeyed(filepath.Join(dir, "central.db"), keyFile)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	early := siteInfo("east")
	fs := testFindings()
	mustSave(t, src, early, fullSet(), fs)
	late := siteInfo("east")
	late.Started, late.Finished = late.Started.Add(24*time.Hour), late.Finished.Add(24*time.Hour)
	lateFs := testFindings()
	for i := range lateFs {
		lateFs[i].Time = lateFs[i].Time.Add(24 * time.Hour)
	}
	mustSave(t, src, late, fullSet(), lateFs)
	// The central store already saw one finding, earlier than the site did.
	centralFs := testFindings()[:1]
	centralFs[0].Time = t0.Add(-48 * time.Hour)
	mustSave(t, dst, siteInfo("north"), fullSet(), centralFs)

	ro, err := OpenReadOnly(src.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	res, err := dst.Sync(ctx, ro)
	if err != nil || res.Copied != 2 || res.Present != 0 {
		t.Fatalf("first sync: %+v, %v", res, err)
	}
	res, err = dst.Sync(ctx, ro)
	if err != nil || res.Copied != 0 || res.Present != 2 {
		t.Fatalf("second sync: %+v, %v", res, err)
	}
	if n := count(t, dst, "SELECT count(*) FROM scans"); n != 3 {
		t.Fatalf("%d scans after two syncs; want 3", n)
	}
	srcScans, _ := src.Scans(ctx)
	for _, si := range srcScans {
		var id int64
		if err := dst.db.QueryRow("SELECT id FROM scans WHERE uid = ?", si.UID).Scan(&id); err != nil {
			t.Fatalf("scan %s not copied: %v", si.UID, err)
		}
		a, b := mustLoad(t, src, si.ID), mustLoad(t, dst, id)
		if b.Scan.Site != "east" || !b.Scan.Started.Equal(a.Scan.Started) || b.Scan.UID != a.Scan.UID {
			t.Errorf("copied scan: site %q, started %v, uid %s", b.Scan.Site, b.Scan.Started, b.Scan.UID)
		}
		if len(a.Certificates) != len(b.Certificates) || len(a.Credentials) != len(b.Credentials) ||
			len(a.Assets) != len(b.Assets) || len(a.Findings) != len(b.Findings) || len(a.TLSSessions) != len(b.TLSSessions) {
			t.Errorf("copied scan %d differs: %d/%d certs, %d/%d creds, %d/%d assets, %d/%d findings", si.ID,
				len(a.Certificates), len(b.Certificates), len(a.Credentials), len(b.Credentials), len(a.Assets),
				len(b.Assets), len(a.Findings), len(b.Findings))
		}
		if kid, _ := dst.ScanKeyID(ctx, id); kid != secretkey.Fingerprint(src.SecretKey()) {
			t.Errorf("copied scan's key id %q", kid)
		}
		for _, c := range a.Certificates {
			der, err := dst.CertificateDER(ctx, c.SHA256)
			if want, _ := src.CertificateDER(ctx, c.SHA256); err != nil || string(der) != string(want) {
				t.Errorf("certificate %s: DER not copied (%v)", c.SHA256, err)
			}
		}
	}
	// First seen from the central store's own earlier scan, last seen from the site's later one.
	var first, last string
	if err := dst.db.QueryRow("SELECT first_seen, last_seen FROM findings WHERE fingerprint = ?", centralFs[0].Fingerprint).
		Scan(&first, &last); err != nil {
		t.Fatal(err)
	}
	if want := dbTime(t0.Add(-48 * time.Hour)); first != want {
		t.Errorf("first_seen %s, want %s", first, want)
	}
	if want := dbTime(lateFs[0].Time); last != want {
		t.Errorf("last_seen %s, want %s", last, want)
	}
}

// TestLiveScanKeepsSiteAndUID: a long-running scan records its site when begun, keeps it
// and its uid through every checkpoint, and its rows carry the site.
func TestLiveScanKeepsSiteAndUID(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	info := siteInfo("icu-east")
	id, err := s.BeginScan(ctx, info)
	if err != nil {
		t.Fatal(err)
	}
	begun := mustLoad(t, s, id)
	if begun.Scan.Site != "icu-east" || len(begun.Scan.UID) != 32 {
		t.Fatalf("begun scan: site %q, uid %q", begun.Scan.Site, begun.Scan.UID)
	}
	for range 2 {
		if err := checkpoint(ctx, s, id, info, fullSet(), testFindings()); err != nil {
			t.Fatal(err)
		}
	}
	r := mustLoad(t, s, id)
	if r.Scan.Site != "icu-east" || r.Scan.UID != begun.Scan.UID {
		t.Errorf("after checkpoints: site %q, uid %q (was %q)", r.Scan.Site, r.Scan.UID, begun.Scan.UID)
	}
	if n := count(t, s, "SELECT count(*) FROM scan_findings WHERE scan_id = ? AND site = 'icu-east'", id); n != len(r.Findings) || n == 0 {
		t.Errorf("%d of %d findings carry the site", n, len(r.Findings))
	}
	if n := count(t, s, "SELECT count(*) FROM assets WHERE site = 'icu-east'"); n != len(r.Assets) || n == 0 {
		t.Errorf("%d of %d assets carry the site", n, len(r.Assets))
	}
}

// TestMigration0005: scans stored before sites read as site "" and get distinct uids;
// their assets, findings and history stay.
func TestMigration0005(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	a := mustSave(t, s, testInfo(), fullSet(), testFindings())
	b := mustSave(t, s, testInfo(), fullSet(), testFindings())
	before := mustLoad(t, s, b)
	for _, q := range append(undo0005, "DELETE FROM schema_migrations WHERE version >= 5", "PRAGMA user_version = 4") {
		if _, err := s.db.Exec(q); err != nil {
			t.Fatal(q, err)
		}
	}
	s.Close()
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ra, rb := mustLoad(t, s, a), mustLoad(t, s, b)
	if ra.Scan.Site != "" || len(ra.Scan.UID) != 32 || ra.Scan.UID == rb.Scan.UID {
		t.Errorf("migrated scans: sites %q %q, uids %q %q", ra.Scan.Site, rb.Scan.Site, ra.Scan.UID, rb.Scan.UID)
	}
	rb.Scan.UID, before.Scan.UID = "", ""
	if !reflect.DeepEqual(rb, before) {
		t.Error("a scan reads otherwise than before the migration")
	}
	if prev, ok, err := s.PreviousScan(context.Background(), b); err != nil || !ok || prev != a {
		t.Errorf("history after the migration: %d %v %v", prev, ok, err)
	}
}
