package delivery

// Lifecycle is what /{id}/lifecycle says of a playback id.
type Lifecycle struct {
	IsInput  bool   // the id is a live input's, not a video's
	VideoUID string // the video being recorded (of a live input), or the video itself
	Live     bool   // a broadcast is going on
}

// Lifecycles, when the Presentations value implements it, answers
// /{id}/lifecycle for live inputs and videos alike.
type Lifecycles interface {
	// Lifecycle describes id, or says false for an unknown one.
	Lifecycle(id string) (Lifecycle, bool)
}

// lifecycleOf describes id through Lifecycles when the presentations
// implement it; otherwise every id is taken for a live input.
func (h *handler) lifecycleOf(id string) lifecycleBody {
	if lc, ok := h.presentations.(Lifecycles); ok {
		if l, found := lc.Lifecycle(id); found {
			body := lifecycleBody{IsInput: l.IsInput, Live: l.Live}
			if l.VideoUID != "" {
				body.VideoUID = &l.VideoUID
			}

			return body
		}
	}

	p, ok := h.presentations.Presentation(id)

	return lifecycleBody{IsInput: true, Live: ok && !p.Ended()}
}
