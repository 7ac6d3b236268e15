package pades

import (
	"context"
	"fmt"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// ValidationData is what a Document Security Store holds (DER each): the certificates of the
// document's signatures and timestamps, and OCSP answers and CRLs for them.
type ValidationData struct {
	Certs, OCSPs, CRLs [][]byte
}

// AddDSS appends an incremental update that adds v to the catalog's /DSS (PAdES B-LT): earlier
// entries stay, each value is a stream object. No /VRI is written; baseline PAdES does not need it
// and validators look the answers up by certificate. The catalog declares the ETSI extension for
// long-term validation data (declareExtensions).
func AddDSS(ctx context.Context, data []byte, v ValidationData) ([]byte, error) {
	doc, catalog, err := openCatalog(ctx, data)
	if err != nil {
		return nil, err
	}
	dss := types.Dict{}
	if existing, err := doc.xref.DereferenceDict(catalog["DSS"]); err == nil && existing != nil {
		dss = existing.Clone().(types.Dict)
	}
	inc := doc.increment()
	for _, part := range []struct {
		key   string
		items [][]byte
	}{{"Certs", v.Certs}, {"OCSPs", v.OCSPs}, {"CRLs", v.CRLs}} {
		if len(part.items) == 0 {
			continue
		}
		arr := types.Array{}
		if old, err := doc.xref.DereferenceArray(dss[part.key]); err == nil {
			arr = append(arr, old...)
		}
		for _, der := range part.items {
			nr := inc.newObject()
			inc.set(nr, fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(der), der))
			arr = append(arr, *types.NewIndirectRef(nr, 0))
		}
		dss[part.key] = arr
	}
	dss["Type"] = types.Name("DSS")
	dssNr := inc.newObject()
	inc.set(dssNr, dss.PDFString())
	catalog = catalog.Clone().(types.Dict)
	catalog["DSS"] = *types.NewIndirectRef(dssNr, 0)
	declareExtensions(doc, catalog, esicLTVLevel)
	inc.set(doc.xref.Root.ObjectNumber.Value(), catalog.PDFString())
	return inc.write()
}
