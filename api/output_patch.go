package api

import (
	"bytes"
	"encoding/json"
	"errors"

	"github.com/onair/onair/restream/destination"
	"github.com/onair/onair/store"
)

// maxOutputURLBytes bounds an output's url and streamKey.
const maxOutputURLBytes = 2048

// outputCreate is a validated create body.
type outputCreate struct {
	url           string
	streamKey     string
	tlsSkipVerify bool
	enabled       bool
}

// parseOutputCreate validates a create body: url is required, streamKey
// and tlsSkipVerify are optional, enabled defaults to true.
func parseOutputCreate(body []byte) (*outputCreate, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, badRequest("field url is required")
	}

	fields, err := objectFields(body, "body")
	if err != nil {
		return nil, err
	}

	p := &outputCreate{enabled: true}

	var hasURL bool

	for _, name := range sortedKeys(fields) {
		raw := fields[name]

		switch name {
		case "url":
			hasURL = true
			err = decodeString(raw, name, &p.url)
		case "streamKey":
			err = decodeString(raw, name, &p.streamKey)
		case "tlsSkipVerify":
			err = decodeBool(raw, name, &p.tlsSkipVerify)
		case "enabled":
			err = decodeBool(raw, name, &p.enabled)
		default:
			err = badRequest("unknown field %.64q", name)
		}

		if err != nil {
			return nil, err
		}
	}

	if !hasURL {
		return nil, badRequest("field url is required")
	}

	if err := checkDestination(p.url, p.streamKey, p.tlsSkipVerify); err != nil {
		return nil, err
	}

	return p, nil
}

// checkDestination applies the push clients' rules to a new output.
func checkDestination(url, key string, skipVerify bool) error {
	d, err := destination.Parse(url, key)

	var fe *destination.FieldError
	if errors.As(err, &fe) {
		return badRequest("field %s: %s", fe.Field, fe.Reason)
	}

	if err != nil {
		return badRequest("field url: %v", err)
	}

	if skipVerify && d.Scheme != "rtmps" {
		return badRequest("field tlsSkipVerify applies to rtmps outputs only")
	}

	return nil
}

func decodeString(raw []byte, name string, dst *string) error {
	v, err := decodeField[string](raw, name, "a string")
	if err != nil {
		return err
	}

	if len(*v) > maxOutputURLBytes {
		return badRequest("field %s is over %d bytes", name, maxOutputURLBytes)
	}

	*dst = *v

	return nil
}

func decodeBool(raw []byte, name string, dst *bool) error {
	v, err := decodeField[bool](raw, name, "a boolean")
	if err != nil {
		return err
	}

	*dst = *v

	return nil
}

// outputUpdate is a validated update body: enabled, and the fixed fields
// when the client sent them back.
type outputUpdate struct {
	enabled       *bool
	url           *string
	streamKey     *string
	tlsSkipVerify *bool
}

func parseOutputUpdate(body []byte) (*outputUpdate, error) {
	p := &outputUpdate{}

	err := eachField(body, func(name string, raw json.RawMessage) (err error) {
		switch name {
		case "enabled":
			p.enabled, err = decodeField[bool](raw, name, "a boolean")
		case "url":
			p.url, err = decodeField[string](raw, name, "a string")
		case "streamKey":
			p.streamKey, err = decodeField[string](raw, name, "a string")
		case "tlsSkipVerify":
			p.tlsSkipVerify, err = decodeField[bool](raw, name, "a boolean")
		default:
			err = badRequest("unknown field %.64q; only enabled can change", name)
		}

		return err
	})
	if err != nil {
		return nil, err
	}

	return p, nil
}

// checkFixed refuses a change to a field that is fixed after create. The
// list shows the url redacted, so that form is accepted as unchanged too.
func (p *outputUpdate) checkFixed(o *store.Output) error {
	if p.url != nil && *p.url != o.URL && *p.url != destination.Redact(o.URL, o.StreamKey) {
		return badRequest("field url is fixed after create; create another output instead")
	}

	if p.streamKey != nil && *p.streamKey != o.StreamKey {
		return badRequest("field streamKey is fixed after create; create another output " +
			"instead")
	}

	if p.tlsSkipVerify != nil && *p.tlsSkipVerify != o.TLSSkipVerify {
		return badRequest("field tlsSkipVerify is fixed after create; create another " +
			"output instead")
	}

	return nil
}
