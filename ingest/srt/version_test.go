package srt

import (
	"os/exec"
	"strings"
	"testing"
)

func TestLibraryVersionMatchesPkgConfig(t *testing.T) {
	out, err := exec.Command("pkg-config", "--modversion", "srt").Output()
	if err != nil {
		t.Skipf("pkg-config cannot tell libsrt's version: %v", err)
	}

	want := strings.TrimSpace(string(out))
	if got := LibraryVersion(); got != want {
		t.Errorf("LibraryVersion() = %q, pkg-config says %q", got, want)
	}
}
