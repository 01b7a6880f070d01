module github.com/onair/onair

go 1.26.8

require (
	github.com/asticode/go-astiav v0.16.0
	github.com/asticode/go-astits v1.15.0
	github.com/bluenviron/gohlslib/v2 v2.4.2
	github.com/bluenviron/mediacommon/v2 v2.9.2
	github.com/haivision/srtgo v0.0.0-20260729205614-11f07ff45f44
	github.com/mattn/go-sqlite3 v1.14.53
	github.com/sirupsen/logrus v1.7.0
	github.com/yutopp/go-amf0 v0.1.0
	github.com/yutopp/go-rtmp v0.0.7
)

require (
	github.com/abema/go-mp4 v1.7.1 // indirect
	github.com/asticode/go-astikit v0.42.0 // indirect
	github.com/google/uuid v1.3.0 // indirect
	github.com/hashicorp/errwrap v1.1.0 // indirect
	github.com/hashicorp/go-multierror v1.1.0 // indirect
	github.com/mattn/go-pointer v0.0.1 // indirect
	github.com/mitchellh/mapstructure v1.4.1 // indirect
	github.com/pkg/errors v0.9.1 // indirect
	golang.org/x/sys v0.3.0 // indirect
)
