package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/onair/onair/restream/destination"
	"github.com/onair/onair/store"
)

// OutputStore keeps the restream outputs of live inputs; *store.Store
// satisfies it.
type OutputStore interface {
	CreateOutput(ctx context.Context, o *store.Output) error
	ListOutputs(ctx context.Context, inputUID string) ([]*store.Output, error)
	SetOutputEnabled(ctx context.Context, inputUID, uid string,
		enabled bool) (*store.Output, error)
	DeleteOutput(ctx context.Context, inputUID, uid string) error
}

// OutputRunner runs the outputs: it hears about every committed change and
// reports their live state.
type OutputRunner interface {
	// OutputsChanged is called after an output of the input was created,
	// updated or deleted. It must not block for long.
	OutputsChanged(inputUID string)

	// OutputStatus returns the live state of a running output; ok is false
	// when it is not running.
	OutputStatus(inputUID, outputUID string) (s OutputStatus, ok bool)
}

// OutputStatus is the live state of an output.
type OutputStatus struct {
	State        string // connected, reconnecting, disconnected or error
	Reason       string
	Since        time.Time
	DroppedUnits int64 // access units dropped for a slow destination
}

// outputJSON is an output as the API shows it. StreamKey is left out of
// lists and updates; Cloudflare returns it on create.
type outputJSON struct {
	UID           string           `json:"uid"`
	URL           string           `json:"url"`
	StreamKey     *string          `json:"streamKey,omitempty"`
	Enabled       bool             `json:"enabled"`
	TLSSkipVerify bool             `json:"tlsSkipVerify"`
	Status        outputStatusJSON `json:"status"`
}

type outputStatusJSON struct {
	Current      statusCurrentJSON `json:"current"`
	DroppedUnits int64             `json:"droppedUnits"`
}

// Reasons an output that is not running shows.
const (
	reasonOutputDisabled = "output disabled"
	reasonNotLive        = "live input is not live"
)

// outputJSONOf shows o with its live state; withKey adds the stream key.
func (s *Server) outputJSONOf(o *store.Output, withKey bool) outputJSON {
	out := outputJSON{UID: o.UID, URL: destination.Redact(o.URL, o.StreamKey),
		Enabled: o.Enabled, TLSSkipVerify: o.TLSSkipVerify}

	if withKey {
		key := o.StreamKey
		out.StreamKey = &key
		out.URL = o.URL
	}

	st := OutputStatus{State: "disconnected", Reason: reasonNotLive, Since: o.Modified}
	if !o.Enabled {
		st.Reason = reasonOutputDisabled
	} else if s.Restream != nil {
		if live, ok := s.Restream.OutputStatus(o.InputUID, o.UID); ok {
			st = live
		}
	}

	out.Status = outputStatusJSON{DroppedUnits: st.DroppedUnits, Current: statusCurrentJSON{
		State: st.State, Reason: st.Reason, StatusEnteredAt: st.Since}}

	return out
}

func (s *Server) outputStore() (OutputStore, error) {
	if s.Outputs == nil {
		return nil, notFound("outputs are not served by this node")
	}

	return s.Outputs, nil
}

func (s *Server) createOutput(w http.ResponseWriter, r *http.Request) (int, any, error) {
	st, err := s.outputStore()
	if err != nil {
		return 0, nil, err
	}

	body, err := readBody(w, r)
	if err != nil {
		return 0, nil, err
	}

	p, err := parseOutputCreate(body)
	if err != nil {
		return 0, nil, err
	}

	o := &store.Output{InputUID: r.PathValue("uid"), URL: p.url, StreamKey: p.streamKey,
		TLSSkipVerify: p.tlsSkipVerify, Enabled: p.enabled}

	err = st.CreateOutput(r.Context(), o)
	if errors.Is(err, store.ErrTooManyOutputs) {
		return 0, nil, &apiError{http.StatusConflict, CodeConflict, fmt.Sprintf(
			"live input %.64q already has %d outputs, the most it may have",
			o.InputUID, store.MaxOutputsPerInput)}
	}

	if err != nil {
		return 0, nil, err
	}

	s.logger().Info("output created", "input", o.InputUID, "output", o.UID,
		"enabled", o.Enabled)
	s.outputsChanged(o.InputUID)

	return http.StatusOK, s.outputJSONOf(o, true), nil
}

func (s *Server) listOutputs(_ http.ResponseWriter, r *http.Request) (int, any, error) {
	st, err := s.outputStore()
	if err != nil {
		return 0, nil, err
	}

	list, err := st.ListOutputs(r.Context(), r.PathValue("uid"))
	if err != nil {
		return 0, nil, err
	}

	out := make([]outputJSON, 0, len(list))
	for _, o := range list {
		out = append(out, s.outputJSONOf(o, false))
	}

	return http.StatusOK, out, nil
}

// updateOutput changes enabled only; url, streamKey and tlsSkipVerify may be
// sent back unchanged, and a different value is refused naming the field.
func (s *Server) updateOutput(w http.ResponseWriter, r *http.Request) (int, any, error) {
	st, err := s.outputStore()
	if err != nil {
		return 0, nil, err
	}

	body, err := readBody(w, r)
	if err != nil {
		return 0, nil, err
	}

	p, err := parseOutputUpdate(body)
	if err != nil {
		return 0, nil, err
	}

	inputUID, uid := r.PathValue("uid"), r.PathValue("output")

	cur, err := s.findOutput(r.Context(), st, inputUID, uid)
	if err != nil {
		return 0, nil, err
	}

	if err := p.checkFixed(cur); err != nil {
		return 0, nil, err
	}

	o := cur
	if p.enabled != nil {
		o, err = st.SetOutputEnabled(r.Context(), inputUID, uid, *p.enabled)
		if err != nil {
			return 0, nil, s.outputNotFound(err, uid)
		}

		s.logger().Info("output updated", "input", inputUID, "output", uid,
			"enabled", o.Enabled)
		s.outputsChanged(inputUID)
	}

	return http.StatusOK, s.outputJSONOf(o, false), nil
}

func (s *Server) deleteOutput(_ http.ResponseWriter, r *http.Request) (int, any, error) {
	st, err := s.outputStore()
	if err != nil {
		return 0, nil, err
	}

	inputUID, uid := r.PathValue("uid"), r.PathValue("output")
	if _, err := s.findOutput(r.Context(), st, inputUID, uid); err != nil {
		return 0, nil, err
	}

	if err := st.DeleteOutput(r.Context(), inputUID, uid); err != nil {
		return 0, nil, s.outputNotFound(err, uid)
	}

	s.logger().Info("output deleted", "input", inputUID, "output", uid)
	s.outputsChanged(inputUID)

	return http.StatusOK, nil, nil
}

// findOutput returns one output: 404 names the input when it is the input
// that is missing.
func (s *Server) findOutput(ctx context.Context, st OutputStore, inputUID,
	uid string) (*store.Output, error) {
	list, err := st.ListOutputs(ctx, inputUID)
	if err != nil {
		return nil, err
	}

	for _, o := range list {
		if o.UID == uid {
			return o, nil
		}
	}

	return nil, notFound("output %.64q of live input %.64q not found", uid, inputUID)
}

func (s *Server) outputNotFound(err error, uid string) error {
	if errors.Is(err, store.ErrNotFound) {
		return notFound("output %.64q not found", uid)
	}

	return err
}

func (s *Server) outputsChanged(inputUID string) {
	if s.Restream != nil {
		s.Restream.OutputsChanged(inputUID)
	}
}
