package stream

// Directory finds the hub that a credential opens. The ingest servers (RTMP,
// RTMPS, SRT) look publishers and players up through it; onair's wiring
// implements it over the live input store.
type Directory interface {
	// PublishHub returns the hub a publish credential (RTMP stream key or SRT
	// stream ID) opens, with the input's passphrase for SRT. It fails with an
	// *AuthError saying why a publisher is refused.
	PublishHub(protocol, credential string) (*Hub, Secret, error)

	// PlaybackHub returns the hub a playback credential opens, in the same way.
	PlaybackHub(protocol, credential string) (*Hub, Secret, error)
}

// Secret is a passphrase that must never be logged; its String hides it.
type Secret string

// String hides the secret from logs and fmt.
func (Secret) String() string {
	return "[redacted]"
}
