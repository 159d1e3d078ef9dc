-- 0009: a scan's findings read in the document's order by SQL. The document orders
-- findings most severe first, then by rule, host, port, subject and fingerprint, the
-- host compared as an address (10.0.0.9 before 10.0.0.10, IPv4 before IPv6), which no
-- portable SQL can do with the text. host_order is the host as a string whose byte
-- order is that order (hostOrder in order.go), so that "medscan report" streams the
-- findings from an ORDER BY instead of reading and sorting them all first. The step in
-- Go fills it for the findings stored before.
ALTER TABLE findings ADD COLUMN host_order TEXT NOT NULL DEFAULT '';
