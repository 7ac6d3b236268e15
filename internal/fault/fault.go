// Package fault names what failed when a dependency could not be reached, so that an edge can say
// so ("the database is unavailable right now; retry in a moment") without importing the adapters.
// Adapters declare their ErrUnavailable as an *Unavailable; errors.Is against that value still works.
package fault

import "errors"

// Unavailable is a dependency that could not be reached: nothing was changed, and retrying may help.
type Unavailable struct {
	Dependency string // as a person reads it: "the database", "document storage", ...
}

func (u *Unavailable) Error() string { return u.Dependency + " is unavailable" }

// DependencyOf names the unavailable dependency that err wraps, or "" when it wraps none.
func DependencyOf(err error) string {
	var u *Unavailable
	if errors.As(err, &u) {
		return u.Dependency
	}
	return ""
}
