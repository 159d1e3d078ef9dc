// Package flowmap draws a scan's data-flow map (findings.Flow edges between inventory
// assets) as one self-contained SVG: medical devices on the left, middleware in the
// middle (other hosts beneath it), clinical servers and the EHR on the right, each edge
// coloured by its protection (clear, tls, tls-unknown-client-auth, mtls) with a legend,
// and the findings on the edge's server port counted in a badge where it arrives.
//
// It is its own package so that every writer that shows the map (the HTML report inline,
// `medscan flows -f svg` and `medscan report -f svg` standalone) draws the same picture
// from the same code, and so that its geometry can be tested apart from any document.
//
// Invariants:
//
//   - The SVG holds no script, no style element or attribute, no link and no external
//     reference: only shapes, text and presentation attributes, so it is safe inline
//     under the HTML report's Content-Security-Policy (default-src 'none' and a hashed
//     stylesheet) and as a file opened on its own.
//   - Every string from the wire (names, models, addresses, rule ids) is escaped for
//     XML and truncated to fit its box; nothing of the map is positioned by text length
//     a browser measures, so labels never overlap: each node's label is inside its own
//     box, nodes in a column are stacked without overlap, and every badge sits in its
//     own slot on the side of the node where its edge arrives (Map.Overlaps checks it).
//   - Beyond Options.MaxNodes nodes (50 by default, the most that stay readable) nodes
//     are grouped: devices by kind, maker and model and /24 (or /64) subnet, the others
//     by kind and subnet, each group labelled with its count; if that is still too many,
//     by kind and model, then by kind alone.
//   - The output is a pure function of its input: the same flows give the same bytes.
package flowmap
