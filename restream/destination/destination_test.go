package destination

import (
	"errors"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name, url, key string
		want           Destination // compared when field is ""
		field          string      // the FieldError's field, "" for success
	}{
		{name: "rtmp", url: "rtmp://a.example/live2", key: "k",
			want: Destination{Scheme: "rtmp", Host: "a.example", Port: 1935, App: "live2",
				Name: "k", TCURL: "rtmp://a.example:1935/live2"}},
		{name: "rtmps default port", url: "rtmps://a.example/app/sub", key: "k",
			want: Destination{Scheme: "rtmps", Host: "a.example", Port: 443, App: "app/sub",
				Name: "k", TCURL: "rtmps://a.example:443/app/sub"}},
		{name: "key in the path", url: "rtmp://127.0.0.1:1940/app/key",
			want: Destination{Scheme: "rtmp", Host: "127.0.0.1", Port: 1940, App: "app",
				Name: "key", TCURL: "rtmp://127.0.0.1:1940/app"}},
		{name: "ipv6", url: "rtmp://[::1]:1935/live", key: "k",
			want: Destination{Scheme: "rtmp", Host: "::1", Port: 1935, App: "live", Name: "k",
				TCURL: "rtmp://[::1]:1935/live"}},
		{name: "srt", url: "srt://h:9000?streamid=a,b&passphrase=0123456789&latency=200",
			want: Destination{Scheme: "srt", Host: "h", Port: 9000, StreamID: "a,b",
				Passphrase: "0123456789", LatencyMS: 200}},
		{name: "srt key is the passphrase", url: "srt://h:9000", key: "0123456789",
			want: Destination{Scheme: "srt", Host: "h", Port: 9000, Passphrase: "0123456789"}},
		{name: "http", url: "http://h/live", key: "k", field: "url"},
		{name: "relative", url: "/live", key: "k", field: "url"},
		{name: "not a url", url: "rtmp://h:x/live", key: "k", field: "url"},
		{name: "port 0", url: "rtmp://h:0/live", key: "k", field: "url"},
		{name: "user info", url: "rtmp://u:p@h/live", key: "k", field: "url"},
		{name: "rtmp without app", url: "rtmp://h", key: "k", field: "url"},
		{name: "rtmp query", url: "rtmp://h/live?x=1", key: "k", field: "url"},
		{name: "rtmp without key", url: "rtmp://h/live", field: "streamKey"},
		{name: "srt without port", url: "srt://h", field: "url"},
		{name: "srt path", url: "srt://h:1/live", field: "url"},
		{name: "srt listener mode", url: "srt://h:1?mode=listener", field: "url"},
		{name: "srt unknown parameter", url: "srt://h:1?pbkeylen=16", field: "url"},
		{name: "srt repeated parameter", url: "srt://h:1?streamid=a&streamid=b", field: "url"},
		{name: "srt latency", url: "srt://h:1?latency=-1", field: "url"},
		{name: "srt short passphrase", url: "srt://h:1?passphrase=short", field: "url"},
		{name: "srt short key", url: "srt://h:1", key: "short", field: "streamKey"},
		{name: "srt two passphrases", url: "srt://h:1?passphrase=0123456789",
			key: "9876543210", field: "streamKey"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse(tt.url, tt.key)

			var fe *FieldError
			if tt.field != "" {
				if !errors.As(err, &fe) || fe.Field != tt.field {
					t.Fatalf("error %v, want one naming %s", err, tt.field)
				}

				return
			}

			if err != nil {
				t.Fatal(err)
			}

			if *d != tt.want {
				t.Errorf("got %+v, want %+v", *d, tt.want)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ url, key, want string }{
		{"rtmp://h/live", "k", "rtmp://h/live"},
		{"rtmp://h/app/secret", "", "rtmp://h/app/REDACTED"},
		{"srt://h:1?passphrase=0123456789&streamid=x", "",
			"srt://h:1?passphrase=REDACTED&streamid=x"},
		{"srt://h:1?streamid=x", "0123456789", "srt://h:1?streamid=x"},
		{"%zz", "", "REDACTED"},
	}

	for _, tt := range tests {
		if got := Redact(tt.url, tt.key); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.url, got, tt.want)
		}
	}
}

func TestStringHidesSecrets(t *testing.T) {
	d, err := Parse("srt://h:9000?passphrase=0123456789&streamid=sid", "")
	if err != nil {
		t.Fatal(err)
	}

	if s := d.String(); s != "srt://h:9000" {
		t.Errorf("String() = %q, want scheme, host and port only", s)
	}
}
