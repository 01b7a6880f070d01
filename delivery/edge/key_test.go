package edge

import (
	"net/url"
	"testing"
)

func TestCacheKey(t *testing.T) {
	tests := []struct {
		url   string
		key   string
		query string
	}{
		{"/a/manifest/video.m3u8", "/a/manifest/video.m3u8", ""},
		{"/a/manifest/video.m3u8?utm=x", "/a/manifest/video.m3u8", ""},
		{"/a/manifest/video.m3u8?protocol=llhls", "/a/manifest/video.m3u8?protocol=llhls",
			"protocol=llhls"},
		{"/a/v/index.m3u8?_HLS_part=2&x=1&_HLS_msn=7", "/a/v/index.m3u8?_HLS_msn=7&_HLS_part=2",
			"_HLS_msn=7&_HLS_part=2"},
		{"/a/v/index.m3u8?_HLS_skip=YES&_HLS_msn=7", "/a/v/index.m3u8?_HLS_msn=7&_HLS_skip=YES",
			"_HLS_msn=7&_HLS_skip=YES"},
		{"/a/v/index.m3u8?_HLS_msn=a%26b", "/a/v/index.m3u8?_HLS_msn=a%26b", "_HLS_msn=a%26b"},
	}

	for _, tt := range tests {
		u, err := url.Parse(tt.url)
		if err != nil {
			t.Fatal(err)
		}

		key, query := cacheKey(u)
		if key != tt.key || query != tt.query {
			t.Errorf("%s: key %q query %q, want %q %q", tt.url, key, query, tt.key, tt.query)
		}
	}
}

func TestPlaybackID(t *testing.T) {
	tests := []struct{ path, id string }{
		{"/abc/manifest/video.m3u8", "abc"},
		{"/abc", "abc"},
		{"/", ""},
	}

	for _, tt := range tests {
		if got := playbackID(tt.path); got != tt.id {
			t.Errorf("%s: %q, want %q", tt.path, got, tt.id)
		}
	}
}
