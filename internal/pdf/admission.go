package pdf

import (
	"context"
	"errors"
	"fmt"
	"time"

	"esign/internal/fault"

	"golang.org/x/sync/semaphore"
)

// AdmissionConfig sizes the process-wide budget for PDF work.
type AdmissionConfig struct {
	// Budget is how many bytes of memory the PDF operations running at one time may hold together
	// (configured by the operator). Zero means DefaultBudget.
	Budget int64
	// Wait is how long an operation waits for room before it is refused as busy
	// (configured by the operator). Zero means DefaultWait.
	Wait time.Duration
}

const (
	// DefaultBudget leaves half of a 2 GB machine to the rest of the process and the OS.
	DefaultBudget = 1 << 30
	// DefaultWait is short enough that a client's request does not time out while it queues.
	DefaultWait = 10 * time.Second
)

// PeakMultiple is what a PDF operation holds besides what its streams decode to, in multiples of
// the document's size: the document, pdfcpu's copy of every stream, its object graph, and the
// output of an incremental write (see BenchmarkPeakHeap, which measures it).
const PeakMultiple = 6

// peakFloor is what even a tiny document costs (pdfcpu's tables, the seals page, the CMS).
const peakFloor = 4 << 20

// objectCost is what pdfcpu's heap grows by per object beside the object's bytes: a 4.7 MB file of
// 100,000 tiny objects peaks at 290 MB (BenchmarkPeakHeap, garbage not yet collected included, as
// it is in the process's footprint).
const objectCost = 3 << 10

// Estimate is what an operation on a document of size bytes reserves, given what the pre-pass
// counted: pdfcpu keeps decoded streams in memory, and a table entry and a parsed object for every
// object, so they add to the rest.
func Estimate(size int, u Usage) int64 {
	return peakFloor + PeakMultiple*int64(size) + u.Decoded + objectCost*int64(u.Objects)
}

// Admission admits PDF operations against a byte budget, so that parallel uploads queue instead of
// multiplying memory. Safe for concurrent use; a nil *Admission admits everything.
type Admission struct {
	sem    *semaphore.Weighted
	budget int64
	wait   time.Duration
}

// NewAdmission returns an admission with cfg's budget.
func NewAdmission(cfg AdmissionConfig) *Admission {
	if cfg.Budget <= 0 {
		cfg.Budget = DefaultBudget
	}
	if cfg.Wait <= 0 {
		cfg.Wait = DefaultWait
	}
	return &Admission{sem: semaphore.NewWeighted(cfg.Budget), budget: cfg.Budget, wait: cfg.Wait}
}

// ErrBusy is the cause of the busy answer (reachable with errors.Is).
var ErrBusy = errors.New("pdf admission: budget in use")

// Reserve waits until n bytes of the budget are free and returns the function that gives them back.
// An operation larger than the whole budget waits until it can run alone. After the configured
// wait it answers an UNAVAILABLE order error saying the server is busy; a cancelled ctx answers
// ctx.Err().
func (a *Admission) Reserve(ctx context.Context, n int64) (release func(), err error) {
	if a == nil {
		return func() {}, nil
	}
	n = min(max(n, 1), a.budget)
	wctx, cancel := context.WithTimeout(ctx, a.wait)
	defer cancel()
	if err := a.sem.Acquire(wctx, n); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, busyError{}
	}
	return func() { a.sem.Release(n) }, nil
}

// Admit measures data's streams (refusing a document over its decode limit with a *Problem) and
// reserves the estimate of an operation on it. Read, given the context it returns, trusts that
// measurement instead of repeating it (a first seal reads the same bytes three times). data must not
// change while the operation runs.
func (a *Admission) Admit(ctx context.Context, data []byte) (context.Context, func(), error) {
	u, err := Measure(ctx, data)
	if err != nil {
		return ctx, nil, err
	}
	release, err := a.Reserve(ctx, Estimate(len(data), u))
	if err != nil {
		return ctx, nil, err
	}
	if len(data) > 0 {
		ctx = context.WithValue(ctx, measuredKey{}, measuredDoc{&data[0], len(data)})
	}
	return ctx, release, nil
}

// measuredKey holds, in an operation's context, the document Admit measured: its first byte's
// address and its length, so that only the very same bytes pass (not a copy, not a part).
type measuredKey struct{}

type measuredDoc struct {
	first *byte
	n     int
}

func measured(ctx context.Context, data []byte) bool {
	m, ok := ctx.Value(measuredKey{}).(measuredDoc)
	return ok && len(data) > 0 && m == measuredDoc{&data[0], len(data)}
}

// busyError is an *fault.Error for the edge and ErrBusy for errors.Is.
type busyError struct{}

func (busyError) Error() string        { return busyMessage }
func (busyError) Is(target error) bool { return target == ErrBusy }
func (busyError) As(target any) bool {
	if e, ok := target.(**fault.Error); ok {
		*e = fault.Retryablef("%s", busyMessage)
		return true
	}
	return false
}

const busyMessage = "the server is busy with other documents right now; please try again in a moment"

// Measure runs the decode pre-pass on data: how much its streams decode to, or a *Problem naming
// the rule when that is more than DecodeLimit allows.
func Measure(ctx context.Context, data []byte) (Usage, error) {
	// Guarded like the pdfcpu calls: a bug in the pre-pass must not take the process down.
	u, err := guard(func() (Usage, error) { return checkStreams(ctx, data, DecodeLimit(len(data))) })
	switch {
	case errors.Is(err, errOverBudget):
		return u, &Problem{Reason: fmt.Sprintf(reasonTooExpanded, mib(DecodeLimit(len(data))), DecodeMultiple, mib(DecodeFloor)), cause: err}
	case errors.Is(err, errTooComplex):
		return u, &Problem{Reason: reasonTooComplex, cause: err}
	case err != nil && ctx.Err() == nil:
		return u, damaged(err) // the pre-pass panicked: treated like pdfcpu's panics
	}
	return u, err
}

func mib(n int64) int64 { return (n + 1<<20 - 1) >> 20 }
