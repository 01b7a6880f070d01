// Package partbench holds the LL-HLS latency benchmark of `make bench`: how
// long a picture takes from the moment it enters onair (the input's hub) to
// the moment the part that carries it can be fetched from the origin over
// HTTP, against the part duration as the baseline.
package partbench
