package transcode

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/onair/onair/ingest/stream"
)

// fileSink is a test Sink that keeps every unit and writes each video track
// to an Annex-B .h264 file and the audio track to an ADTS .aac file.
type fileSink struct {
	t   *testing.T
	dir string

	mu     sync.Mutex
	writes int // concurrent Write calls, to catch unserialized calls
	tracks []*stream.Track
	units  map[*stream.Track][]*stream.Unit
	files  map[*stream.Track]*os.File
	asc    mpeg4audio.AudioSpecificConfig
	starts int
	ends   int
}

func newFileSink(t *testing.T) *fileSink {
	return &fileSink{t: t, dir: keepDir(t), units: map[*stream.Track][]*stream.Unit{},
		files: map[*stream.Track]*os.File{}}
}

func (s *fileSink) Start(tracks []*stream.Track) error {
	s.mu.Lock()
	defer s.mu.Unlock()

	s.starts++
	s.tracks = tracks

	for _, tr := range tracks {
		ext := ".h264"
		if tr.Codec == stream.CodecAAC {
			ext = ".aac"
			if err := s.asc.Unmarshal(tr.AudioConfig); err != nil {
				return err
			}
		}

		f, err := os.Create(filepath.Join(s.dir, tr.Name+ext))
		if err != nil {
			return err
		}

		s.files[tr] = f
	}

	return nil
}

func (s *fileSink) Write(u *stream.Unit) {
	s.mu.Lock()
	s.writes++
	if s.writes > 1 {
		s.t.Error("Write called concurrently")
	}
	s.mu.Unlock()

	defer func() {
		s.mu.Lock()
		s.writes--
		s.mu.Unlock()
	}()

	s.units[u.Track] = append(s.units[u.Track], u)
	if _, err := s.files[u.Track].Write(s.encode(u)); err != nil {
		s.t.Error(err)
	}
}

func (s *fileSink) encode(u *stream.Unit) []byte {
	if u.Track.Codec == stream.CodecAAC {
		b, err := mpeg4audio.ADTSPackets{{
			Type: s.asc.Type, SampleRate: s.asc.SampleRate,
			ChannelConfig: s.asc.ChannelConfig, ChannelCount: s.asc.ChannelCount, AU: u.Payload,
		}}.Marshal()
		if err != nil {
			s.t.Error(err)
		}

		return b
	}

	var b []byte
	nalus := u.NALUs
	if u.Key {
		nalus = append([][]byte{u.Track.SPS, u.Track.PPS}, nalus...)
	}

	for _, n := range nalus {
		b = append(append(b, 0, 0, 0, 1), n...)
	}

	return b
}

func (s *fileSink) End() {
	s.mu.Lock()
	defer s.mu.Unlock()

	s.ends++
	for _, f := range s.files {
		f.Close()
	}
}

// path returns the file a track was written to.
func (s *fileSink) path(tr *stream.Track) string {
	return s.files[tr].Name()
}

// keepDir returns where a fileSink writes: $ONAIR_TEST_KEEP when set (to look
// at the files afterwards), else a temporary folder.
func keepDir(t *testing.T) string {
	if d := os.Getenv("ONAIR_TEST_KEEP"); d != "" {
		d = filepath.Join(d, filepath.Base(t.Name()))
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}

		return d
	}

	return t.TempDir()
}
