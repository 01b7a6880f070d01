package samples

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDir(t *testing.T) {
	cases := []struct {
		name string
		env  string
		want string
	}{
		{"beside the module", "", filepath.Join("..", "..", "..", "shared", "media")},
		{"from the environment", "/srv/clips", "/srv/clips"},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(envDir, tc.env)

			want := tc.want
			if !filepath.IsAbs(want) {
				wd, _ := os.Getwd()
				want = filepath.Join(wd, want)
			}

			if got := Dir(); filepath.Clean(got) != filepath.Clean(want) {
				t.Fatalf("Dir() = %s, want %s", got, want)
			}
		})
	}
}
