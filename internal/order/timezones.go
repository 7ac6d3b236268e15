package order

import (
	_ "embed"
	"fmt"
	"strings"
	"time"
)

// timezones.txt lists the IANA zone names of Go's embedded tz database (Area/Location names and UTC);
// it was made from $GOROOT/lib/time/zoneinfo.zip, and a test checks every name still loads.
//
//go:embed timezones.txt
var timezoneList string

// Timezones returns the names the timezones query answers with and createSignatureOrder accepts.
func Timezones() ([]string, error) {
	names := strings.Fields(timezoneList)
	for _, n := range names {
		if _, err := time.LoadLocation(n); err != nil {
			return nil, fmt.Errorf("timezone list: %w", err)
		}
	}
	return names, nil
}
