package signing_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"esign/internal/fault"
	"esign/internal/order"
	"esign/internal/pdf/pdftest"
	"esign/internal/pdf/seal"
	"esign/internal/signing"
	"esign/internal/tenant"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// placementSealer records what each seal was asked to place.
type placementSealer struct {
	mu   sync.Mutex
	reqs map[string][]seal.Placement // by DocumentID
}

func (s *placementSealer) Seal(_ context.Context, pdf []byte, req seal.Request) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs[req.DocumentID] = req.Placements
	return append(append([]byte(nil), pdf...), "\n% sealed\n"...), nil
}

func TestSignPassesPlacements(t *testing.T) {
	half := 0.5
	cases := []struct {
		name        string
		positions   [2][]order.SealPosition // for documents A (1 page) and B (2 pages)
		want        [2][]seal.Placement
		field, rule string // the error, when creating the order must fail
	}{
		{name: "points, scaled",
			positions: [2][]order.SealPosition{{{Page: 1, X: 50, Y: 50}}, {{Page: 2, X: 10, Y: 20, Scale: &half}, {Page: 1, X: 0, Y: 0}}},
			want: [2][]seal.Placement{{{Page: 1, X: 50, Y: 50, Width: order.SealWidth, Height: order.SealHeight}},
				{{Page: 2, X: 10, Y: 20, Width: order.SealWidth / 2, Height: order.SealHeight / 2}, {Page: 1, Width: order.SealWidth, Height: order.SealHeight}}}},
		{name: "page beyond the document",
			positions: [2][]order.SealPosition{{{Page: 2, X: 50, Y: 50}}, {{Page: 1}}},
			field:     "signatories[0].documents[0].pdfSealPositions[0].page", rule: "page 2 is beyond the end of the document, which has 1 page"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sealer := &placementSealer{reqs: map[string][]seal.Placement{}}
			e := newEnvWith(t, sealer, nil)
			p := e.principal(t, "app", tenant.KeyReadWrite)
			ctx := context.Background()
			ref := [2]string{"a", "b"}
			d := order.Draft{
				EvidenceProviders: []order.EvidenceProvider{{EnabledByDefault: true, Noop: &order.NoopProvider{Name: "test"}}},
				Documents: []order.DocumentDraft{
					{Kind: order.DocumentPDF, Title: "A", Reference: &ref[0], StorageMode: order.StorageModeTemporary, Data: pdftest.Make(t, 1, 0)},
					{Kind: order.DocumentPDF, Title: "B", Reference: &ref[1], StorageMode: order.StorageModeTemporary, Data: pdftest.Make(t, 2, 0)},
				},
				Signatories: []order.SignatoryDraft{{Documents: []order.SignatoryDocument{
					{ID: "a", SealPositions: c.positions[0]}, {ID: "b", SealPositions: c.positions[1]},
				}}},
			}
			o, err := e.svc.CreateOrder(ctx, p, d)
			if c.field != "" {
				// Refused at creation, when the page count is known, not first when someone signs.
				var fe *fault.Error
				if !errors.As(err, &fe) || fe.Code != fault.CodeInvalid || fe.Field != c.field || !strings.Contains(fe.Message, c.rule) {
					t.Fatalf("CreateOrder = %v, %v; want INVALID %q on %q", o, err, c.rule, c.field)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			sp := signing.SignatoryPrincipal{OrderID: o.ID, SignatoryID: o.Signatories[0].ID}
			approveAll(t, e, sp, o)
			_, _, err = e.svc.Sign(ctx, sp, signing.SignInput{ProviderID: o.EvidenceProviders[0].ID, Noop: true})
			if err != nil {
				t.Fatal(err)
			}
			for i, doc := range o.Documents {
				got := sealer.reqs[doc.DocumentID]
				if len(got) != len(c.want[i]) {
					t.Fatalf("document %s: placements %+v, want %+v", doc.Title, got, c.want[i])
				}
				for k := range got {
					if got[k] != c.want[i][k] {
						t.Errorf("document %s placement %d = %+v, want %+v", doc.Title, k, got[k], c.want[i][k])
					}
				}
			}
		})
	}
}

// TestPercentPlacementsAreOfTheVisiblePage: a percent position is of the page a viewer shows, its
// crop box, not the larger media box: 0,0 is the crop box's top-left corner.
func TestPercentPlacementsAreOfTheVisiblePage(t *testing.T) {
	box, err := model.ParseBox("[50 100 545 742]", types.POINTS)
	if err != nil {
		t.Fatal(err)
	}
	var cropped bytes.Buffer
	if err := api.Crop(bytes.NewReader(pdftest.Make(t, 1, 0)), &cropped, nil, box, model.NewDefaultConfiguration()); err != nil {
		t.Fatal(err)
	}
	sealer := &formSealer{}
	e := newEnvWith(t, sealer, nil)
	p := e.principal(t, "app", tenant.KeyReadWrite)
	ctx := context.Background()
	o, err := e.svc.CreateOrder(ctx, p, order.Draft{
		EvidenceProviders: []order.EvidenceProvider{{EnabledByDefault: true, Noop: &order.NoopProvider{Name: "test"}}},
		Documents: []order.DocumentDraft{{Kind: order.DocumentPDF, Title: "Cropped", Reference: ptr("c"),
			StorageMode: order.StorageModeTemporary, Data: cropped.Bytes()}},
		Signatories: []order.SignatoryDraft{{Documents: []order.SignatoryDocument{{ID: "c", Fields: []order.SignatoryField{
			{Kind: order.FieldSignature, Placement: order.Placement{Percent: &order.PercentPlacement{Page: 1, X: 0, Y: 0, Width: 50, Height: 10}}},
		}}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	sp := signing.SignatoryPrincipal{OrderID: o.ID, SignatoryID: o.Signatories[0].ID}
	approveAll(t, e, sp, o)
	if _, _, err := e.svc.Sign(ctx, sp, signing.SignInput{ProviderID: o.EvidenceProviders[0].ID, Noop: true}); err != nil {
		t.Fatal(err)
	}
	// The crop box is 495 × 642 points: half its width, a tenth of its height, from its top-left.
	want := seal.Placement{Page: 1, X: 50, Y: 742 - 64.2, Width: 247.5, Height: 64.2}
	if got := sealer.placements[0]; len(got) != 1 || !nearPlacement(got[0], want) {
		t.Fatalf("the seal is placed at %+v, want %+v", got, want)
	}
}

func nearPlacement(a, b seal.Placement) bool {
	near := func(x, y float64) bool { return x-y < 0.01 && y-x < 0.01 }
	return a.Page == b.Page && near(a.X, b.X) && near(a.Y, b.Y) && near(a.Width, b.Width) && near(a.Height, b.Height)
}
