package srt

import (
	"errors"
	"strings"
	"testing"
)

// streamIDCases seed both TestParseStreamID and FuzzParseStreamID.
var streamIDCases = []struct {
	name    string
	in      string
	want    streamID
	wantErr error
}{
	{"bare", "abc123", streamID{"abc123", modeAny}, nil},
	{"publish", "#!::r=abc,m=publish", streamID{"abc", modePublish}, nil},
	{"keys in any order", "#!::m=publish,r=abc", streamID{"abc", modePublish}, nil},
	{"unknown keys ignored", "#!::u=bob,r=abc,s=xyz,m=request", streamID{"abc", modeRequest}, nil},
	{"mode defaults to request", "#!::r=abc", streamID{"abc", modeRequest}, nil},
	{"bidirectional refused", "#!::r=abc,m=bidirectional", streamID{}, errBadMode},
	{"no resource", "#!::m=publish", streamID{}, errNoResource},
	{"empty resource", "#!::r=,m=publish", streamID{}, errNoResource},
	{"empty", "", streamID{}, errEmptyStreamID},
	{"too long", strings.Repeat("a", maxStreamIDLen+1), streamID{}, errStreamIDTooLong},
	{"prefix only", "#!::", streamID{}, errNoResource},
}

func TestParseStreamID(t *testing.T) {
	for _, tc := range streamIDCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStreamID(tc.in)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error: got %v, want %v", err, tc.wantErr)
			}

			if got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func FuzzParseStreamID(f *testing.F) {
	for _, tc := range streamIDCases {
		f.Add(tc.in)
	}

	f.Fuzz(func(t *testing.T, s string) {
		id, err := parseStreamID(s)
		if err != nil {
			if id != (streamID{}) {
				t.Fatalf("error %v with a result %+v", err, id)
			}

			return
		}

		if id.Resource == "" || len(s) > maxStreamIDLen {
			t.Fatalf("accepted %q as %+v", s, id)
		}

		if !strings.HasPrefix(s, accessControlPrefix) && (id.Resource != s || id.Mode != modeAny) {
			t.Fatalf("bare %q parsed as %+v", s, id)
		}
	})
}
