// Package geoip reads the country of an address from a database in the
// MaxMind DB format (GeoLite2-Country, GeoIP2-Country, GeoIP2-City and the
// free databases written in the same format), as the format's specification
// describes it: https://maxmind.github.io/MaxMind-DB/.
package geoip
