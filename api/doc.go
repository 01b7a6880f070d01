// Package api serves onair's REST API under /client/v4, shaped like
// Cloudflare Stream's: bearer-token auth, the {result, success, errors,
// messages} envelope on every response, and the live input endpoints over a
// Store.
package api
