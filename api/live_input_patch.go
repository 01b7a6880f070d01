package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/onair/onair/store"
)

// Limits on live input settings.
const (
	// maxMetaBytes bounds meta, measured as compact JSON.
	maxMetaBytes = 16 << 10

	// maxTimeoutSeconds bounds recording.timeoutSeconds: an hour is far past
	// any encoder's reconnect, and keeps a dead broadcast from staying "live"
	// for days.
	maxTimeoutSeconds = 3600

	// minDeleteRecordingAfterDays is Cloudflare's minimum for
	// deleteRecordingAfterDays.
	minDeleteRecordingAfterDays = 30

	// maxCreatorChars bounds defaultCreator, as Cloudflare does.
	maxCreatorChars = 64

	// maxAllowedOrigins bounds recording.allowedOrigins.
	maxAllowedOrigins = 100
)

// originPattern is an allowed origin: a host name, optionally "*." in front
// for every subdomain, and optionally a port. No scheme, path or bare "*".
var originPattern = regexp.MustCompile(`^(\*\.)?(` + hostLabel + `\.)*` + hostLabel +
	`(:[0-9]{1,5})?$`)

// hostLabel is one label of a host name (RFC 1123 section 2.1).
const hostLabel = `[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?`

// liveInputPatch is a validated create or update body. A nil pointer (or a
// false has*) is a field the body left out.
type liveInputPatch struct {
	meta           map[string]any
	enabled        *bool
	defaultCreator *string
	hasDays        bool
	days           *int // nil with hasDays: clear it
	recording      recordingPatch
}

type recordingPatch struct {
	mode          *string
	timeout       *int
	requireSigned *bool
	origins       []string // nil: left out
	hideCount     *bool
}

// readBody reads at most maxBodyBytes of r's body.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	var buf bytes.Buffer

	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, maxBodyBytes))

	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, &apiError{http.StatusRequestEntityTooLarge, CodeTooLarge,
			fmt.Sprintf("body is over the %d-byte limit", maxBodyBytes)}
	}

	if err != nil {
		return nil, badRequest("cannot read body: %v", err)
	}

	return buf.Bytes(), nil
}

// parsePatch validates a whole body before anything is applied, so that a
// request with one bad field changes nothing. An empty body is an empty patch.
func parsePatch(body []byte) (*liveInputPatch, error) {
	p := &liveInputPatch{}

	err := eachField(body, func(name string, raw json.RawMessage) (err error) {
		switch name {
		case "meta":
			p.meta, err = parseMeta(raw)
		case "enabled":
			p.enabled, err = decodeField[bool](raw, name, "a boolean")
		case "defaultCreator":
			p.defaultCreator, err = parseCreator(raw, "defaultCreator")
		case "deleteRecordingAfterDays":
			p.hasDays = true
			p.days, err = parseDays(raw)
		case "recording":
			err = p.recording.parse(raw)
		default:
			err = badRequest("unknown field %.64q", name)
		}

		return err
	})
	if err != nil {
		return nil, err
	}

	return p, nil
}

func (p *recordingPatch) parse(raw json.RawMessage) error {
	fields, err := objectFields(raw, "field recording")
	if err != nil {
		return err
	}

	for _, name := range sortedKeys(fields) {
		raw := fields[name]
		path := "recording." + name

		switch name {
		case "mode":
			p.mode, err = parseMode(raw)
		case "timeoutSeconds":
			p.timeout, err = parseTimeout(raw)
		case "requireSignedURLs":
			p.requireSigned, err = decodeField[bool](raw, path, "a boolean")
		case "allowedOrigins":
			p.origins, err = parseOrigins(raw, "recording.allowedOrigins")
		case "hideLiveViewerCount":
			p.hideCount, err = decodeField[bool](raw, path, "a boolean")
		default:
			err = badRequest("unknown field %.64q", path)
		}

		if err != nil {
			return err
		}
	}

	return nil
}

// objectFields splits a JSON object into its fields; what names the value in
// errors.
func objectFields(raw []byte, what string) (map[string]json.RawMessage, error) {
	if first := bytes.TrimLeft(raw, " \t\r\n"); len(first) == 0 || first[0] != '{' {
		if !json.Valid(raw) {
			return nil, badRequest("%s is not valid JSON", what)
		}

		return nil, badRequest("%s must be a JSON object", what)
	}

	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, badRequest("%s is not valid JSON: %v", what, err)
	}

	return fields, nil
}

// eachField validates body as a JSON object and calls field with each of its
// fields, in name order, until one fails; an empty body has no fields.
func eachField(body []byte, field func(name string, raw json.RawMessage) error) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}

	fields, err := objectFields(body, "body")
	if err != nil {
		return err
	}

	for _, name := range sortedKeys(fields) {
		if err := field(name, fields[name]); err != nil {
			return err
		}
	}

	return nil
}

func sortedKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}

	slices.Sort(keys)

	return keys
}

// decodeField decodes a field that must not be null into a T; kind says what
// T is in words.
func decodeField[T any](raw json.RawMessage, name, kind string) (*T, error) {
	var v T
	if isNull(raw) || json.Unmarshal(raw, &v) != nil {
		return nil, badRequest("field %s must be %s, not %s", name, kind, describe(raw))
	}

	return &v, nil
}

func isNull(raw json.RawMessage) bool {
	return string(bytes.TrimSpace(raw)) == "null"
}

// describe names a JSON value for an error message without echoing it.
func describe(raw json.RawMessage) string {
	s := bytes.TrimSpace(raw)
	if len(s) == 0 {
		return "nothing"
	}

	switch s[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		if len(s) > 32 {
			return "a number"
		}

		return "the number " + string(s)
	}
}

func parseMeta(raw json.RawMessage) (map[string]any, error) {
	if s := bytes.TrimSpace(raw); len(s) == 0 || s[0] != '{' {
		return nil, badRequest("field meta must be a JSON object, not %s", describe(raw))
	}

	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		return nil, badRequest("field meta is not valid JSON: %v", err)
	}

	if compact.Len() > maxMetaBytes {
		return nil, badRequest("field meta is %d bytes, over the %d-byte limit",
			compact.Len(), maxMetaBytes)
	}

	d := json.NewDecoder(&compact)
	d.UseNumber()

	var meta map[string]any
	if err := d.Decode(&meta); err != nil {
		return nil, badRequest("field meta is not valid JSON: %v", err)
	}

	return meta, nil
}

// parseCreator validates a creator field named name.
func parseCreator(raw json.RawMessage, name string) (*string, error) {
	c, err := decodeField[string](raw, name, "a string")
	if err != nil {
		return nil, err
	}

	if n := utf8.RuneCountInString(*c); n > maxCreatorChars {
		return nil, badRequest("field %s is %d characters, over the limit of %d",
			name, n, maxCreatorChars)
	}

	return c, nil
}

func parseDays(raw json.RawMessage) (*int, error) {
	if isNull(raw) {
		return nil, nil
	}

	d, err := decodeField[int](raw, "deleteRecordingAfterDays", "an integer or null")
	if err != nil {
		return nil, err
	}

	if *d < minDeleteRecordingAfterDays {
		return nil, badRequest("field deleteRecordingAfterDays is %d, under the minimum of %d",
			*d, minDeleteRecordingAfterDays)
	}

	return d, nil
}

func parseMode(raw json.RawMessage) (*string, error) {
	m, err := decodeField[string](raw, "recording.mode", "a string")
	if err != nil {
		return nil, err
	}

	if *m != store.RecordingAutomatic && *m != store.RecordingOff {
		return nil, badRequest("field recording.mode is %.64q, want %q or %q", *m,
			store.RecordingAutomatic, store.RecordingOff)
	}

	return m, nil
}

func parseTimeout(raw json.RawMessage) (*int, error) {
	t, err := decodeField[int](raw, "recording.timeoutSeconds", "an integer")
	if err != nil {
		return nil, err
	}

	if *t < 0 || *t > maxTimeoutSeconds {
		return nil, badRequest("field recording.timeoutSeconds is %d, want 0 to %d", *t,
			maxTimeoutSeconds)
	}

	return t, nil
}

// parseOrigins validates an allowed origins field named name.
func parseOrigins(raw json.RawMessage, name string) ([]string, error) {
	list, err := decodeField[[]string](raw, name, "an array of strings")
	if err != nil {
		return nil, err
	}

	if len(*list) > maxAllowedOrigins {
		return nil, badRequest("field %s has %d entries, over the limit of %d",
			name, len(*list), maxAllowedOrigins)
	}

	origins := make([]string, 0, len(*list))

	for i, o := range *list {
		o = strings.ToLower(o)
		if !validOrigin(o) {
			return nil, badRequest("field %s[%d] is %.64q: want a host name "+
				"such as example.com or *.example.com, without a scheme or path", name, i, o)
		}

		origins = append(origins, o)
	}

	return origins, nil
}

// validOrigin reports whether o (lower case) matches originPattern with a
// host of at most 253 characters (RFC 1035 section 2.3.4) and a port that
// exists.
func validOrigin(o string) bool {
	if !originPattern.MatchString(o) {
		return false
	}

	host, port, hasPort := strings.Cut(strings.TrimPrefix(o, "*."), ":")
	if n, err := strconv.Atoi(port); hasPort && (err != nil || n < 1 || n > 65535) {
		return false
	}

	return len(host) <= 253
}

// apply writes the fields the body had into in.
func (p *liveInputPatch) apply(in *store.LiveInput) {
	if p.meta != nil {
		in.Meta = p.meta
	}

	setIf(&in.Enabled, p.enabled)
	setIf(&in.DefaultCreator, p.defaultCreator)

	if p.hasDays {
		in.DeleteRecordingAfterDays = p.days
	}

	rec := &in.Recording
	setIf(&rec.Mode, p.recording.mode)
	setIf(&rec.TimeoutSeconds, p.recording.timeout)
	setIf(&rec.RequireSignedURLs, p.recording.requireSigned)
	setIf(&rec.HideLiveViewerCount, p.recording.hideCount)

	if p.recording.origins != nil {
		rec.AllowedOrigins = p.recording.origins
	}
}

func setIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}
