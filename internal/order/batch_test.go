package order

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"esign/internal/fault"
)

var batchNow = time.Date(2026, 1, 3, 12, 0, 0, 0, time.UTC)

// batchOrder is an OPEN order "o<n>" of application "app" with one document and a drawable
// (requireName) and a noop provider enabled by default, with a signer "s<n>" and an approver "a<n>".
func batchOrder(n int) *SignatureOrder {
	id := func(p string) string { return fmt.Sprintf("%s%d", p, n) }
	return &SignatureOrder{
		ID: id("o"), ApplicationID: "app", Status: StatusOpen, ExpiresAt: batchNow.Add(time.Hour),
		Documents: []Document{{ID: id("d"), Title: "D"}},
		EvidenceProviders: []EvidenceProvider{
			{ID: id("draw"), Kind: ProviderDrawable, Drawable: &DrawableProvider{RequireName: true}, EnabledByDefault: true},
			{ID: id("noop"), Kind: ProviderNoop, Noop: &NoopProvider{Name: "test"}, EnabledByDefault: true},
		},
		Signatories: []Signatory{
			{ID: id("s"), Status: SignatoryOpen, SignatoryRole: RoleSigner, SigningSequence: 1},
			{ID: id("a"), Status: SignatoryOpen, SignatoryRole: RoleApprover, SigningSequence: 1},
		},
	}
}

func targetsOf(orders ...*SignatureOrder) []BatchTarget {
	out := make([]BatchTarget, len(orders))
	for i, o := range orders {
		out[i] = BatchTarget{Item: BatchItem{OrderID: o.ID, SignatoryID: o.Signatories[0].ID}, Order: o}
	}
	return out
}

func TestNewBatchSignatory(t *testing.T) {
	tests := []struct {
		name    string
		targets func() []BatchTarget
		ui      *UI
		// want is a fragment of the error ("" for none) and the field it names.
		want, field string
	}{
		{"two orders sharing both providers", func() []BatchTarget { return targetsOf(batchOrder(1), batchOrder(2)) }, nil, "", ""},
		{"no items", func() []BatchTarget { return nil }, nil, "at least one", "items"},
		{"too many items", func() []BatchTarget {
			var orders []*SignatureOrder
			for i := 0; i <= MaxBatchItems; i++ {
				orders = append(orders, batchOrder(i))
			}
			return targetsOf(orders...)
		}, nil, "at most", "items"},
		{"an item twice", func() []BatchTarget {
			o := batchOrder(1)
			return append(targetsOf(o, batchOrder(2)), targetsOf(o)...)
		}, nil, "repeats items[0]", "items[2]"},
		{"an unknown order", func() []BatchTarget {
			ts := targetsOf(batchOrder(1), batchOrder(2))
			ts[1].Order = nil
			return ts
		}, nil, "no signature order", "items[1]"},
		{"another application's order", func() []BatchTarget {
			o := batchOrder(2)
			o.ApplicationID = "other"
			return targetsOf(batchOrder(1), o)
		}, nil, "no signature order", "items[1]"},
		{"a signatory not in its order", func() []BatchTarget {
			ts := targetsOf(batchOrder(1), batchOrder(2))
			ts[1].Item.SignatoryID = "s1"
			return ts
		}, nil, "does not contain", "items[1]"},
		{"a closed order", func() []BatchTarget {
			o := batchOrder(2)
			o.Status = StatusClosed
			return targetsOf(batchOrder(1), o)
		}, nil, "CLOSED", "items[1]"},
		{"an expired order", func() []BatchTarget {
			o := batchOrder(1)
			o.ExpiresAt = batchNow
			return targetsOf(o)
		}, nil, "expired", "items[0]"},
		{"a signatory who signed", func() []BatchTarget {
			o := batchOrder(1)
			o.Signatories[0].Status = SignatorySigned
			return targetsOf(o)
		}, nil, "cannot act again", "items[0]"},
		{"not the signatory's turn", func() []BatchTarget {
			o := batchOrder(1)
			o.Signatories[1].SigningSequence = 0
			return targetsOf(o)
		}, nil, "turn", "items[0]"},
		{"an approver", func() []BatchTarget {
			ts := targetsOf(batchOrder(1))
			ts[0].Item.SignatoryID = "a1"
			return ts
		}, nil, "APPROVER does not sign", "items[0]"},
		{"a VIEW-stage login", func() []BatchTarget {
			o := batchOrder(1)
			o.EvidenceValidationStages = []string{EvidenceStageView}
			return targetsOf(o)
		}, nil, "login before viewing", "items[0]"},
		{"one shared provider is enough", func() []BatchTarget {
			o := batchOrder(2)
			o.EvidenceProviders[1].Noop.Name = "another"
			return targetsOf(batchOrder(1), o)
		}, nil, "", ""},
		{"the same kind with other settings is not shared", func() []BatchTarget {
			o := batchOrder(2)
			o.EvidenceProviders = o.EvidenceProviders[:1]
			o.EvidenceProviders[0].Drawable = &DrawableProvider{RequireName: false}
			return targetsOf(batchOrder(1), o)
		}, nil, "shares no evidence provider", "items[1]"},
		{"a provider the signatory did not choose is not shared", func() []BatchTarget {
			o := batchOrder(3)
			o.Signatories[0].EvidenceProviders = []string{"noop3"}
			p := batchOrder(2)
			p.Signatories[0].EvidenceProviders = []string{"draw2"}
			return targetsOf(batchOrder(1), o, p)
		}, nil, "shares no evidence provider", "items[2]"},
		{"a bad ui", func() []BatchTarget { return targetsOf(batchOrder(1)) }, &UI{Language: "XX_XX"}, "must be one of", "ui.language"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := NewBatchSignatory("b", "app", "trace", tc.targets(), tc.ui, batchNow)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if b.ID != "b" || b.ApplicationID != "app" || b.TraceID != "trace" || !b.CreatedAt.Equal(batchNow) || len(b.Items) != len(tc.targets()) {
					t.Fatalf("batch %+v", b)
				}
				return
			}
			de, ok := fault.As(err)
			if !ok || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(de.Field, tc.field) {
				t.Fatalf("error %v (field %q), want %q on %q", err, fieldOf(de), tc.want, tc.field)
			}
		})
	}
}

func fieldOf(de *fault.Error) string {
	if de == nil {
		return ""
	}
	return de.Field
}

func TestBatchProvidersMapsEachOrdersID(t *testing.T) {
	o2 := batchOrder(2)
	o2.EvidenceProviders[0], o2.EvidenceProviders[1] = o2.EvidenceProviders[1], o2.EvidenceProviders[0]
	ts := targetsOf(batchOrder(1), o2)
	got, err := BatchProviders(ts)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID() != "draw1" || got[1].ID() != "noop1" {
		t.Fatalf("providers %+v", got)
	}
	if got[0].IDs[ts[1].Item] != "draw2" || got[1].IDs[ts[1].Item] != "noop2" || got[0].IDs[ts[0].Item] != "draw1" {
		t.Fatalf("ids %v %v", got[0].IDs, got[1].IDs)
	}
}

func TestViewOfBatch(t *testing.T) {
	o1, o2, o3 := batchOrder(1), batchOrder(2), batchOrder(3)
	o2.Status = StatusClosed
	o1.Signatories[0].DocumentStatus = map[string]DocumentStatus{"d1": DocumentApproved}
	ts := targetsOf(o1, o2, o3)
	ts = append(ts, BatchTarget{Item: BatchItem{OrderID: "gone", SignatoryID: "x"}})
	b := &BatchSignatory{ID: "b", Items: []BatchItem{ts[0].Item, ts[1].Item, ts[2].Item, ts[3].Item}}
	v := ViewOfBatch(b, ts, batchNow)
	want := []Blocked{BlockedNone, BlockedClosed, BlockedNone, BlockedGone}
	for i, it := range v.Items {
		if it.Blocked != want[i] {
			t.Errorf("item %d blocked %q, want %q", i, it.Blocked, want[i])
		}
	}
	if v.Items[3].View != nil || v.Items[0].View == nil || v.Items[0].View.Signatory.ID != "s1" {
		t.Errorf("views %+v", v.Items)
	}
	if v.AllApproved() {
		t.Error("o3's document is not approved, yet all approved")
	}
	if len(v.Providers) != 2 || v.Provider("draw1") == nil || v.Provider("draw1").IDs[ts[2].Item] != "draw3" || v.Provider("draw2") != nil {
		t.Errorf("providers %+v", v.Providers)
	}
	if v.Status() != SignatoryOpen {
		t.Errorf("status %s", v.Status())
	}
	if v.UI.Language != DefaultLanguage {
		t.Errorf("ui %+v", v.UI)
	}

	// Signed everywhere that still exists but one item gone: not SIGNED.
	for _, o := range []*SignatureOrder{o1, o2, o3} {
		o.Signatories[0].Status = SignatorySigned
	}
	if st := ViewOfBatch(b, ts, batchNow).Status(); st != SignatoryOpen {
		t.Errorf("status with an item gone %s, want OPEN", st)
	}
	b.Items = b.Items[:3]
	if st := ViewOfBatch(b, ts[:3], batchNow).Status(); st != SignatorySigned {
		t.Errorf("status %s, want SIGNED", st)
	}
	o3.Signatories[0].Status = SignatoryRejected
	if st := ViewOfBatch(b, ts[:3], batchNow).Status(); st != SignatoryRejected {
		t.Errorf("status %s, want REJECTED", st)
	}
	lang := "DA_DK"
	b.UI = &UI{Language: lang}
	if v := ViewOfBatch(b, ts[:3], batchNow); v.UI.Language != lang || len(v.Providers) != 0 {
		t.Errorf("ui %+v providers %+v", v.UI, v.Providers)
	}
}
