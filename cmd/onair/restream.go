package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/onair/onair/api"
	"github.com/onair/onair/restream"
	"github.com/onair/onair/store"
)

// newRestream returns the restream manager of a node, reading outputs from
// the store.
func newRestream(st *store.Store, log *slog.Logger) *restream.Manager {
	return &restream.Manager{Log: log, Load: func(ctx context.Context,
		inputUID string) ([]restream.Output, error) {
		list, err := st.ListOutputs(ctx, inputUID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}

		if err != nil {
			return nil, err
		}

		out := make([]restream.Output, 0, len(list))
		for _, o := range list {
			out = append(out, restream.Output{UID: o.UID, URL: o.URL, StreamKey: o.StreamKey,
				TLSSkipVerify: o.TLSSkipVerify, Enabled: o.Enabled})
		}

		return out, nil
	}}
}

// outputRunner lets the API drive and read the restream manager.
type outputRunner struct {
	m   *restream.Manager
	log *slog.Logger
}

// OutputsChanged implements api.OutputRunner.
func (r *outputRunner) OutputsChanged(inputUID string) {
	if err := r.m.Reload(inputUID); err != nil {
		r.log.Warn("outputs not reloaded", "component", "restream", "input", inputUID,
			"error", err)
	}
}

// OutputStatus implements api.OutputRunner.
func (r *outputRunner) OutputStatus(inputUID, outputUID string) (api.OutputStatus, bool) {
	s, ok := r.m.Status(inputUID, outputUID)

	return api.OutputStatus{State: s.State, Reason: s.Reason, Since: s.Since,
		DroppedUnits: s.DroppedUnits}, ok
}
