// Package httpwire dissects cleartext HTTP/1.0 and HTTP/1.1: it frames requests and
// responses on a reassembled TCP stream (pipelining, keep-alive, Content-Length and chunked
// bodies, 1xx interim responses, HEAD/204/304 without a body) and emits one
// observe.HTTPRequest per request, paired in order with its response, plus an
// observe.Credential for every secret seen in clear.
//
// Invariants:
//   - Bodies are skipped by count, never buffered: a 100 MB upload costs a few comparisons.
//     The only buffer is one partial header line per direction, capped at MaxLine bytes.
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
package httpwire
