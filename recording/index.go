package recording

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/onair/onair/packager"
)

// Names of a video's files, under its uid.
const (
	indexName = "index.jsonl"
	initName  = "init.mp4"
)

// entry is one line of a video's index: a rendition's init segment or one
// media segment, appended after the file it names is whole.
type entry struct {
	Init      *packager.RenditionInfo `json:"init,omitempty"`
	Rendition string                  `json:"rendition,omitempty"`
	Segment   *packager.SegmentInfo   `json:"segment,omitempty"`
}

// Index is what a video's index says: its renditions, in the order they
// were started, and their segments.
type Index struct {
	Renditions []packager.RecordedRendition
}

// Duration returns the length of the recording: the longest of its video
// renditions, or of its audio when it has no video, in seconds.
func (x *Index) Duration() float64 {
	var video, audio float64

	for _, r := range x.Renditions {
		var ticks uint64
		for _, s := range r.Segments {
			ticks += s.Duration
		}

		d := float64(ticks) / float64(max(r.Info.Timescale, 1))
		if r.Info.Video {
			video = max(video, d)
		} else {
			audio = max(audio, d)
		}
	}

	if video > 0 {
		return video
	}

	return audio
}

// Size returns the picture size of the top video rendition.
func (x *Index) Size() (width, height int) {
	for _, r := range x.Renditions {
		if r.Info.Video && r.Info.Width*r.Info.Height > width*height {
			width, height = r.Info.Width, r.Info.Height
		}
	}

	return width, height
}

// Load reads the index of video from storage with the init segments. A last
// line cut short by a crash is ignored; segments listed are whole.
func Load(storage Storage, video string) (*Index, error) {
	data, err := storage.Read(video + "/" + indexName)
	if err != nil {
		return nil, fmt.Errorf("video %s: index: %w", video, err)
	}

	x := &Index{}
	byName := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)

	for sc.Scan() {
		var e entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			break // a line cut short by a crash: the rest was never written
		}

		switch {
		case e.Init != nil:
			init, err := storage.Read(fileName(video, e.Init.Name, e.Init.Session, initName))
			if err != nil {
				return nil, fmt.Errorf("video %s: %w", video, err)
			}

			x.addInit(byName, *e.Init, init)

		case e.Segment != nil:
			i, ok := byName[e.Rendition]
			if !ok {
				return nil, fmt.Errorf("video %s: segment of unknown rendition %q", video,
					e.Rendition)
			}

			x.Renditions[i].Segments = append(x.Renditions[i].Segments, *e.Segment)
		}
	}

	return x, nil
}

// Presentation returns the recorded presentation of video for playback.
func Presentation(storage Storage, video string) (*packager.Presentation, error) {
	x, err := Load(storage, video)
	if err != nil {
		return nil, err
	}

	p, err := packager.Recorded(x.Renditions, &store{storage: storage, video: video})
	if err != nil {
		return nil, fmt.Errorf("video %s: %w", video, err)
	}

	return p, nil
}

// addInit adds a rendition's init segment of a session: a new rendition, or
// a new session of one already seen (the publisher came back).
func (x *Index) addInit(byName map[string]int, info packager.RenditionInfo, init []byte) {
	i, ok := byName[info.Name]
	if !ok {
		i = len(x.Renditions)
		byName[info.Name] = i
		x.Renditions = append(x.Renditions, packager.RecordedRendition{})
	}

	r := &x.Renditions[i]
	r.Info = info

	if r.Inits == nil {
		r.Inits = map[string][]byte{}
	}

	r.Inits[info.Session] = init
}

// fileName is where a rendition's file of a video is stored: under the same
// NAME/SESSION/FILE as in the live presentation's URIs.
func fileName(video, rendition, session, file string) string {
	return video + "/" + rendition + "/" + session + "/" + file
}

// store reads a video's segments for a recorded presentation, which names
// them "NAME/SESSION/seg_SEQ.m4s".
type store struct {
	storage Storage
	video   string
}

func (s *store) Get(name string) ([]byte, error) {
	parts := strings.Split(name, "/")
	if len(parts) != 3 {
		return nil, packager.ErrNotFound
	}

	data, err := s.storage.Read(fileName(s.video, parts[0], parts[1], parts[2]))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", packager.ErrNotFound, err)
	}

	return data, nil
}

func (s *store) Put(string, []byte) error {
	return fmt.Errorf("recorded presentation: %w", ErrClosed)
}

func (s *store) Delete(string) error {
	return nil
}
