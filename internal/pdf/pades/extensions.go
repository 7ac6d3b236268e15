package pades

import (
	"regexp"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// A file that holds PAdES signatures says so: PDF 1.7 (what ETSI's extensions are defined on; an
// increment cannot change the header, but the catalog's /Version overrides it) and the ETSI
// developer extension /ESIC (ETSI EN 319 142-1 builds on ETSI TS 102 778; iText and EU DSS write
// the same levels): level 2 for CAdES-based signatures (/SubFilter /ETSI.CAdES.detached, TS 102
// 778-3), level 5 for the Document Security Store and document timestamps (TS 102 778-4, LTV). A
// PDF 2.0 file needs neither: ISO 32000-2 defines all of it.
const (
	esicSignatureLevel = 2
	esicLTVLevel       = 5
)

var headerVersion = regexp.MustCompile(`^%PDF-(\d\.\d)`)

// declareExtensions raises catalog's /Version to 1.7 and its /Extensions /ESIC to level (never
// lowering either, keeping other developers' extensions); it answers whether catalog changed.
func declareExtensions(d *document, catalog types.Dict, level int) bool {
	version := "1.0"
	if m := headerVersion.FindSubmatch(d.data[:min(len(d.data), 1024)]); m != nil {
		version = string(m[1])
	}
	if v := catalog.NameEntry("Version"); v != nil && len(*v) == 3 && *v > version {
		version = *v
	}
	if version >= "2.0" {
		return false
	}
	changed := false
	if version < "1.7" {
		catalog["Version"] = types.Name("1.7")
		changed = true
	}
	ext := types.Dict{}
	if old, err := d.xref.DereferenceDict(catalog["Extensions"]); err == nil && old != nil {
		ext = old.Clone().(types.Dict)
	}
	if esic, err := d.xref.DereferenceDict(ext["ESIC"]); err == nil && esic != nil {
		if l := esic.IntEntry("ExtensionLevel"); l != nil && *l >= level {
			return changed
		}
	}
	ext["ESIC"] = types.Dict{"BaseVersion": types.Name("1.7"), "ExtensionLevel": types.Integer(level)}
	catalog["Extensions"] = ext
	return true
}

// firstSignature answers whether the document has no signed signature field yet, so changing its
// catalog alongside the first one leaves nobody's signature judged against the change.
func firstSignature(d *document, catalog types.Dict) bool {
	form, err := d.xref.DereferenceDict(catalog["AcroForm"])
	if err != nil || form == nil {
		return true
	}
	fields, err := d.xref.DereferenceArray(form["Fields"])
	if err != nil {
		return true
	}
	var signed func(types.Array, int) bool
	signed = func(fields types.Array, depth int) bool {
		for _, f := range fields {
			dict, err := d.xref.DereferenceDict(f)
			if err != nil || dict == nil {
				continue
			}
			if ft := dict.NameEntry("FT"); ft != nil && *ft == "Sig" && dict["V"] != nil {
				return true
			}
			if kids, err := d.xref.DereferenceArray(dict["Kids"]); err == nil && depth < 8 && signed(kids, depth+1) {
				return true
			}
		}
		return false
	}
	return !signed(fields, 0)
}
