// Package httpwire dissects cleartext HTTP/1.0 and HTTP/1.1: it frames requests and
// responses on a reassembled TCP stream (pipelining, keep-alive, Content-Length and chunked
// bodies, 1xx interim responses, HEAD/204/304 without a body) and emits one
// observe.HTTPRequest per request, paired in order with its response, plus an
// observe.Credential for every secret seen in clear.
//
// Invariants:
//   - Bodies are skipped by count, never buffered whole: a 100 MB upload costs a few
//     comparisons. The buffers are one partial header line per direction, capped at
//     MaxLine bytes, the first SniffLen bytes of a 2xx response body (see the image rules
//     below), and the first MaxBodyScan bytes of a form or JSON request body (see the
//     credential rules), grown as they come and dropped, cleared, when the body ends; the
//     windows of all streams together hold at most MaxBodyHeld bytes (past it a body is
//     not read: "http_body_scan_skipped").
//   - A raw URL path never leaves the dissector: every request is handed on through one
//     function (emit), which decides what it was (observe.ClassifyHTTP: FHIR, another API,
//     neither) while the raw path is at hand, then replaces the path by its template
//     (observe.PathTemplate: "/fhir/Patient/{id}"). Identifiers in paths are patient data.
//     Image detection by extension reads the raw path before that.
//   - Secrets never leave the dissector in clear. Authorization and Proxy-Authorization
//     (any scheme), API-key headers and secret-looking query parameters become a Credential
//     holding only what ctx.Secrets.Hide returns; HTTPRequest keeps query parameter names,
//     header names and the auth scheme, never their values.
//   - Framing loss (a Gap, an unparsable start line) resynchronises at the next line that
//     is a request line (client side) or starts with "HTTP/1." (server side). A gap inside
//     a Content-Length body needs no resynchronisation at all. After any gap, requests and
//     responses are no longer paired (the lost bytes may have held either): requests are
//     emitted as soon as their headers end, responses on their own with an empty Method.
//   - A response with no request waiting (a one-direction capture) is emitted on its own,
//     with an empty Method, so the server's banner and status are still seen.
//   - Done is true only after a tunnel starts (CONNECT answered 2xx, or 101 Switching
//     Protocols): otherwise HTTP keeps counting requests for as long as the flow lives.
//     A CONNECT answered 2xx also hands off (dissect.Handoff): the tunnel's bytes go to
//     detection again (TLS, or HTTP to the target), and TunnelTarget names the host and
//     port of the request's authority-form target, "10.20.0.9:443", "[2001:db8::7]:443"
//     or "pump.example:443" (read by dissect.TunnelHost; a target that does not parse
//     hands off without one). The latest CONNECT is the one answered: a client waits for
//     the answer before it sends into the tunnel. A 101 upgrade (WebSocket, h2c) does
//     not hand off.
//
// Image rules: a download of firmware or software is recognised in a 2xx response with a
// body, so that package rules can report updates fetched in clear (cleartext-update):
//   - By the request path's extension (imageExts: .bin .img .fw .hex .elf .exe .msi .dll
//     .zip .tar .tgz .gz .deb .rpm .apk .pkg .swu .upd .uimage), by the response media type
//     (imageTypes: application/octet-stream, application/x-msdownload, application/zip,
//     application/gzip, application/x-tar, application/vnd.android.package-archive and
//     their aliases), or by the body's magic in its first SniffLen bytes: ELF "\x7fELF",
//     PE "MZ" with "PE\0\0" at e_lfanew (when that falls inside the window), U-Boot uImage
//     0x27051956, a flattened device tree (U-Boot FIT) d00dfeed, an Intel HEX record
//     ":LLAAAA0T", gzip 1f8b08, tar "ustar" at offset 257, zip "PK\x03\x04". A body under Content-Encoding (or a Transfer-Encoding other than
//     chunked) is not sniffed: a compressed web page is not a gzip download.
//   - The record of such a response is held until its body ends, then carries BodyKind
//     (the magic's name when the content has one, else "ext:.bin", else "type:<media
//     type>"), BodyBytes and the SHA-256 of the body, computed as the bytes stream through
//     (Content-Length, chunked, or read until close). The body itself is not buffered
//     here: when the engine has an update keeper (dissect.Context.Keep), the same bytes
//     that are hashed, de-chunked, are handed to it (package updatekeep), as is the body
//     of a response whose name marks it a signature or checksum list beside an image
//     (updatekeep.Companion); a body under Content-Encoding: gzip alone is handed over as
//     it comes and decoded by the keeper (updatekeep.Body.Gunzip), so that what is kept
//     is the vendor's file while BodySHA256 stays the digest of the bytes on the wire
//     (BodyEncoded says so, for any Content-Encoding; the kept image lists that digest in
//     updatekeep.File.WireSHA256, which is how cleartext-update names the image); a
//     206 fragment, a body with a hole and a body under any other Content-Encoding are
//     not (the last counted).
//   - A body cut by a capture gap or by the end of the capture, or a 206 Partial Content
//     response, is BodyPartial with no digest: the hash of a fragment matches nothing a
//     vendor publishes. BodyBytes is then what was seen.
//   - Every other response is emitted as before, at the end of its headers or as soon as
//     its first bytes rule out a magic number; its body keeps costing nothing beyond that.
//     Size is judged by the rule, not here.
//
// Device descriptions: a request is a Descriptor, never an API (observe.AsEmitted), when
// its response carries DIAL's Application-URL header, when its 2xx XML (or untyped)
// response body holds a UPnP root element's namespace in its first SniffLen bytes, or by
// its path (observe.DescriptorPath: /description.xml, /rootDesc.xml, /dd.xml, /apps/…).
//
// Credential rules, chosen to catch what leaks without drowning the report:
//   - Authorization / Proxy-Authorization: Kind "http-<scheme lowercased>" (http-basic,
//     http-bearer, http-digest, http-ntlm, http-negotiate, ...), Where = the header name.
//     Basic: User is the decoded user name and the secret is the password (the whole
//     token when it does not decode). Digest: User is username=, the secret is response=.
//     NTLM: User is the domain\user of an AUTHENTICATE message when present. A value that
//     is a single token with no scheme is Kind "http-bare-token".
//   - API-key headers, Kind "api-key-header", Where = the header name as sent: the names in
//     apiKeyNames, and any header whose lowercased name contains "api-key", "api_key",
//     "apikey", "secret" or "token" — except anti-CSRF tokens (names containing "csrf" or
//     "xsrf"), which are per-session anti-forgery values, not credentials, and would
//     otherwise flag every web application.
//   - URL query parameters named (case-insensitively) password, passwd, pwd, pass, token,
//     access_token, auth_token, api_key, apikey, key, secret, client_secret, sig,
//     signature, session, sessionid, jwt with a non-empty value: Kind "url-secret",
//     Where = the parameter name. The value is percent-decoded before hashing so the same
//     secret hashes alike however it was escaped.
//   - user:password@ in an absolute-form request target (a request to a proxy): Kind
//     "url-userinfo", Where "url", User the user name.
//   - Request bodies: password-like fields (observe.IsSecretBodyKey: password, passwd, pwd,
//     pass, pin, secret, token, apikey, access_token, client_secret, ... and names ending
//     in password, secret or apikey; anti-forgery tokens excepted) of a form body
//     (application/x-www-form-urlencoded; "user[password]" judged by its innermost name)
//     or a JSON body (a JSON media type, or no Content-Type and a body that is a JSON
//     object; members of objects nested at most 8 deep, string or number values): Kind
//     "form-field" or "json-field", Where = the field's name, no User (a body's other
//     values, the user name among them, are never kept). Only the first MaxBodyScan bytes
//     are read, de-chunked; a body longer than that is counted as
//     "http_body_scan_truncated", one cut by a gap or the capture's end as
//     "http_body_scan_lost", and a field the cut may have shortened is not read. The
//     request names the fields (BodySecretKeys) and is a Login; when the server answered
//     before the body ended, the record has left without the names
//     ("http_body_keys_late"), and the credentials are reported all the same.
package httpwire
