//go:build !gpu

package transcode

import "testing"

// TestGPU stands for the tests that need a GPU, built with -tags gpu.
func TestGPU(t *testing.T) {
	t.Skip("the hardware encoder tests need a GPU: run scripts/gpu-check.sh " +
		"(go test -tags gpu ./transcode/) on a machine with an NVIDIA GPU")
}
