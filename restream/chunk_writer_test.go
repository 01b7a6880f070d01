package restream

import (
	"bufio"
	"bytes"
	"io"
	"testing"

	gortmp "github.com/yutopp/go-rtmp"
	"github.com/yutopp/go-rtmp/message"
)

// TestChunkWriterReadBack writes messages with the push's chunk writer and
// reads them back with go-rtmp's chunk reader, the one onair's ingest uses.
func TestChunkWriterReadBack(t *testing.T) {
	tests := []struct {
		name      string
		chunkSize int
		ts        uint32
		size      int
	}{
		{"one chunk", 128, 40, 100},
		{"many chunks", 128, 40, 1000},
		{"exact multiple", 128, 0, 256},
		{"large chunks", pushChunkSize, 1000, 40000},
		{"extended timestamp", 128, 0x1000000, 100},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var wire bytes.Buffer

			p := &rtmpPusher{bw: bufio.NewWriter(&wire), chunkSize: tt.chunkSize}
			payload := bytes.Repeat([]byte{0x17, 1, 2, 3, 4, 5, 6}, tt.size/7+1)[:tt.size]

			if err := p.writeMessage(videoChunkStream, typeVideo, 1, tt.ts, payload); err != nil {
				t.Fatal(err)
			}

			cs := gortmp.NewChunkStreamer(&wire, io.Discard, nil)
			defer cs.Close()

			if err := cs.PeerState().SetChunkSize(uint32(tt.chunkSize)); err != nil {
				t.Fatal(err)
			}

			var cm gortmp.ChunkMessage

			csid, ts, err := cs.Read(&cm)
			if err != nil {
				t.Fatal(err)
			}

			v, ok := cm.Message.(*message.VideoMessage)
			if !ok {
				t.Fatalf("read %T, want a video message", cm.Message)
			}

			got, _ := io.ReadAll(v.Payload)
			if csid != videoChunkStream || ts != tt.ts || cm.StreamID != 1 ||
				!bytes.Equal(got, payload) {
				t.Errorf("read chunk stream %d, ts %d, stream %d, %d bytes; want %d, %d, 1, %d",
					csid, ts, cm.StreamID, len(got), videoChunkStream, tt.ts, len(payload))
			}
		})
	}
}

// TestChunkWriterExtendedContinuation checks that a continuation chunk of a
// message with an extended timestamp repeats it, as Adobe's, ffmpeg's and
// nginx-rtmp's readers expect.
func TestChunkWriterExtendedContinuation(t *testing.T) {
	var wire bytes.Buffer

	p := &rtmpPusher{bw: bufio.NewWriter(&wire), chunkSize: 128}
	err := p.writeMessage(audioChunkStream, typeAudio, 1, 0x01020304, make([]byte, 200))
	if err != nil {
		t.Fatal(err)
	}

	b := wire.Bytes()
	want := 1 + 11 + 4 + 128 + 1 + 4 + 72

	if len(b) != want {
		t.Fatalf("wrote %d bytes, want %d", len(b), want)
	}

	cont := b[1+11+4+128:]
	if cont[0] != 0xc0|audioChunkStream || !bytes.Equal(cont[1:5], []byte{1, 2, 3, 4}) {
		t.Errorf("continuation header % x, want c%x 01 02 03 04", cont[:5], audioChunkStream)
	}
}
