package order

import (
	"testing"
	"time"
)

func TestSweep(t *testing.T) {
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	expires := created.Add(48 * time.Hour)
	withDocs := func(status Status, retain *time.Time) *SignatureOrder {
		return &SignatureOrder{ID: "o", Status: status, CreatedAt: created, ExpiresAt: expires, RetainDocumentsUntil: retain,
			Documents: []Document{{ID: "d", Versions: []DocumentVersion{{Number: 1, BlobKey: "k1"}, {Number: 2, BlobKey: "k2"}}}}}
	}
	retain := ptr(created.Add(72 * time.Hour))
	tests := []struct {
		name        string
		o           *SignatureOrder
		now         time.Time
		wantSweepAt *time.Time
		wantStatus  Status
		wantExpired bool
		wantDropped int
	}{
		{"open before expiry", withDocs(StatusOpen, nil), expires.Add(-time.Microsecond), &expires, StatusOpen, false, 0},
		{"open at expiry", withDocs(StatusOpen, nil), expires, &expires, StatusExpired, true, 2},
		{"closed, retained", withDocs(StatusClosed, retain), retain.Add(-time.Second), retain, StatusClosed, false, 0},
		{"closed, retention over", withDocs(StatusClosed, retain), *retain, retain, StatusClosed, false, 2},
		{"cancelled with documents left", withDocs(StatusCancelled, nil), created, &created, StatusCancelled, false, 2},
		{"closed, documents gone", &SignatureOrder{Status: StatusClosed, CreatedAt: created, DocumentsDeletedAt: &created,
			Documents: []Document{{ID: "d"}}}, expires, nil, StatusClosed, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.o.SweepAt()
			if (got == nil) != (tt.wantSweepAt == nil) || (got != nil && !got.Equal(*tt.wantSweepAt)) {
				t.Errorf("SweepAt = %v, want %v", got, tt.wantSweepAt)
			}
			r := tt.o.Sweep(tt.now)
			if tt.o.Status != tt.wantStatus || r.Expired != tt.wantExpired || len(r.Dropped) != tt.wantDropped {
				t.Errorf("after Sweep: status %s, expired %v, dropped %d; want %s, %v, %d",
					tt.o.Status, r.Expired, len(r.Dropped), tt.wantStatus, tt.wantExpired, tt.wantDropped)
			}
			if tt.wantDropped > 0 {
				if tt.o.SweepAt() != nil || tt.o.DocumentsDeletedAt == nil {
					t.Errorf("after dropping: SweepAt %v, DocumentsDeletedAt %v; want nil and set", tt.o.SweepAt(), tt.o.DocumentsDeletedAt)
				}
				if again := tt.o.Sweep(tt.now.Add(time.Hour)); again.Expired || len(again.Dropped) != 0 {
					t.Errorf("a second sweep did something: %+v", again)
				}
			}
		})
	}
}
