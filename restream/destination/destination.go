// Package destination parses and checks the URL and stream key of a restream
// output (rtmp://, rtmps:// or srt://), without reaching the network, so that
// the API can validate an output with the same rules the push clients use.
package destination

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Default ports of the destination URL schemes.
const (
	defaultRTMPPort  = 1935
	defaultRTMPSPort = 443
)

// SRT limits (SRT draft, section 6, and libsrt's SRTO_PASSPHRASE).
const (
	minSRTPassphrase = 10
	maxSRTPassphrase = 79
	maxSRTStreamID   = 512
	maxSRTLatencyMS  = 60_000
)

// Destination is a parsed output URL and stream key. Its String shows only
// the scheme, host and port: the key or passphrase never reaches a log.
type Destination struct {
	Scheme string // "rtmp", "rtmps" or "srt"
	Host   string // host name or IP, without brackets
	Port   int

	// App and Name are the RTMP application and publishing name (the stream
	// key, or the URL's last path segment when the key is empty).
	App, Name string

	// TCURL is the RTMP URL of the application, sent in the connect command.
	TCURL string

	// StreamID, Passphrase and LatencyMS are the SRT caller's settings, from
	// the URL's streamid, passphrase and latency query parameters.
	StreamID   string
	Passphrase string
	LatencyMS  int

	// TLSSkipVerify accepts any certificate from an RTMPS destination.
	TLSSkipVerify bool
}

// FieldError says which field of an output is wrong and why; the API turns it
// into a 400 naming the field.
type FieldError struct {
	Field  string // "url" or "streamKey"
	Reason string
}

func (e *FieldError) Error() string {
	return e.Field + ": " + e.Reason
}

func urlError(format string, args ...any) error {
	return &FieldError{Field: "url", Reason: fmt.Sprintf(format, args...)}
}

// Parse checks an output's URL and stream key and returns where
// to push. For srt:// the stream key, when set, is the passphrase (a
// passphrase query parameter does the same).
func Parse(raw, streamKey string) (*Destination, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return nil, urlError("must be an absolute rtmp://, rtmps:// or srt:// URL with a host")
	}

	if u.User != nil {
		return nil, urlError("must not carry user information")
	}

	d := &Destination{Scheme: u.Scheme, Host: u.Hostname()}
	if d.Host == "" {
		return nil, urlError("has no host")
	}

	if err := d.parsePort(u.Port()); err != nil {
		return nil, err
	}

	switch u.Scheme {
	case "rtmp", "rtmps":
		err = d.parseRTMP(u, streamKey)
	case "srt":
		err = d.parseSRT(u, streamKey)
	default:
		err = urlError("scheme %.16q is not supported; use rtmp, rtmps or srt", u.Scheme)
	}

	if err != nil {
		return nil, err
	}

	return d, nil
}

func (d *Destination) parsePort(text string) error {
	if text == "" {
		switch d.Scheme {
		case "rtmp":
			d.Port = defaultRTMPPort
		case "rtmps":
			d.Port = defaultRTMPSPort
		case "srt":
			return urlError("an srt URL needs a port")
		}

		return nil
	}

	p, err := strconv.Atoi(text)
	if err != nil || p < 1 || p > 65535 {
		return urlError("port %.8q is not from 1 to 65535", text)
	}

	d.Port = p

	return nil
}

func (d *Destination) parseRTMP(u *url.URL, streamKey string) error {
	if u.RawQuery != "" || u.Fragment != "" {
		return urlError("an rtmp URL takes no query or fragment; put the key in streamKey")
	}

	path := strings.Trim(u.Path, "/")
	if path == "" {
		return urlError("an rtmp URL needs an application path, such as /live")
	}

	d.App = path
	d.Name = streamKey

	if streamKey == "" {
		i := strings.LastIndex(path, "/")
		if i < 0 {
			return &FieldError{Field: "streamKey",
				Reason: "is required unless the url ends with /<app>/<key>"}
		}

		d.App, d.Name = path[:i], path[i+1:]
	}

	d.TCURL = d.Scheme + "://" + d.Address() + "/" + d.App

	return nil
}

func (d *Destination) parseSRT(u *url.URL, streamKey string) error {
	if strings.Trim(u.Path, "/") != "" || u.Fragment != "" {
		return urlError("an srt URL has no path; use the streamid query parameter")
	}

	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return urlError("query is not valid")
	}

	for name, values := range q {
		if len(values) != 1 {
			return urlError("query parameter %.32q is given %d times", name, len(values))
		}

		if err := d.srtParameter(name, values[0]); err != nil {
			return err
		}
	}

	if streamKey != "" {
		if d.Passphrase != "" && d.Passphrase != streamKey {
			return &FieldError{Field: "streamKey",
				Reason: "differs from the url's passphrase; give one of them"}
		}

		d.Passphrase = streamKey
	}

	if n := len(d.Passphrase); n != 0 && (n < minSRTPassphrase || n > maxSRTPassphrase) {
		field := "url"
		if streamKey != "" {
			field = "streamKey"
		}

		return &FieldError{Field: field, Reason: fmt.Sprintf(
			"an srt passphrase has %d to %d characters", minSRTPassphrase, maxSRTPassphrase)}
	}

	return nil
}

func (d *Destination) srtParameter(name, value string) error {
	switch name {
	case "streamid":
		if len(value) > maxSRTStreamID {
			return urlError("streamid is over %d bytes", maxSRTStreamID)
		}

		d.StreamID = value

	case "passphrase":
		d.Passphrase = value

	case "latency":
		ms, err := strconv.Atoi(value)
		if err != nil || ms < 0 || ms > maxSRTLatencyMS {
			return urlError("latency must be milliseconds from 0 to %d", maxSRTLatencyMS)
		}

		d.LatencyMS = ms

	case "mode":
		if value != "caller" {
			return urlError("outputs are srt callers; mode %.16q is not supported", value)
		}

	default:
		return urlError("query parameter %.32q is not supported; use streamid, passphrase "+
			"or latency", name)
	}

	return nil
}

// Address is host:port, bracketing an IPv6 host.
func (d *Destination) Address() string {
	return net.JoinHostPort(d.Host, strconv.Itoa(d.Port))
}

// String names the destination without its key or passphrase.
func (d *Destination) String() string {
	return d.Scheme + "://" + d.Address()
}

// redacted stands for a secret in a URL shown back.
const redacted = "REDACTED"

// Redact returns an output's URL for lists: an srt passphrase parameter, and
// the last path segment of an rtmp URL that carries the key (streamKey
// empty), are replaced by REDACTED. A URL that does not parse is returned as
// REDACTED.
func Redact(raw, streamKey string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return redacted
	}

	switch u.Scheme {
	case "srt":
		q := u.Query()
		if q.Has("passphrase") {
			q.Set("passphrase", redacted)
			u.RawQuery = q.Encode()
		}

	case "rtmp", "rtmps":
		if streamKey == "" {
			path := strings.TrimRight(u.Path, "/")
			if i := strings.LastIndex(path, "/"); i > 0 {
				u.Path = path[:i+1] + redacted
				u.RawPath = ""
			}
		}
	}

	return u.String()
}
