package delivery

import (
	"net/url"
	"testing"
	"time"
)

func TestParseStill(t *testing.T) {
	tests := []struct {
		query string
		want  stillRequest
		bad   bool
	}{
		{"", stillRequest{fit: "crop"}, false},
		{"time=1m30s&width=320&fit=fill",
			stillRequest{at: 90 * time.Second, timed: true, width: 320, fit: "fill"}, false},
		{"height=4096&fit=clip", stillRequest{height: 4096, fit: "clip"}, false},
		{"time=-1s", stillRequest{}, true},
		{"time=12", stillRequest{}, true},
		{"width=0", stillRequest{}, true},
		{"height=4097", stillRequest{}, true},
		{"width=1.5", stillRequest{}, true},
		{"fit=zoom", stillRequest{}, true},
	}

	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			q, _ := url.ParseQuery(tt.query)

			got, err := parseStill(q)
			if (err != nil) != tt.bad {
				t.Fatalf("parseStill(%q) error %v, want bad %v", tt.query, err, tt.bad)
			}

			if !tt.bad && got != tt.want {
				t.Errorf("parseStill(%q) = %+v, want %+v", tt.query, got, tt.want)
			}
		})
	}
}
