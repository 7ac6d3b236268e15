package signui

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"esign/internal/fault"
	"esign/internal/i18n"
	"esign/internal/order"
	"esign/internal/signing"
)

// The document form on the page: each field the signatory fills in each of their documents (their
// own fields, and the document's own form where it was enabled: signing.SignatoryFormFields) is an
// input of the sign form, named formInputName(document, field). A hidden "formdoc"
// input per document says that its fields were in the form, so that an unchecked checkbox (which
// browsers do not send) means "false" rather than "not given".

// maxFormValueBytes bounds what the document form adds to a sign post: order.MaxFormFields values
// at order.MaxMessageLen characters with their names come to about 1.3 MB in ASCII; percent-encoding
// of other characters is left room by the factor of three.
const maxFormValueBytes = 4 << 20

// formDoc is one document's form as the page shows it.
type formDoc struct {
	ID, Title string
	Fields    []formField
}

type formField struct {
	ID        string // the HTML id, for its label and error
	Input     string // the form input's name
	Name      string // the field's fully qualified name
	Label     string // what the page calls it: the signatory field's label, or the name
	Kind      string
	Required  bool
	MaxLength int
	Value     string
	Checked   bool // a checkbox
	Choices   []choice
	Locked    bool
	Multiline bool
	Error     string
}

type choice struct {
	Value    string
	Selected bool
}

// formInputName is the sign form's input for one field: the document id is query-escaped so that
// the first ':' after it ends it (field names may hold any character).
func formInputName(documentID, field string) string {
	return "form:" + url.QueryEscape(documentID) + ":" + field
}

// formDocuments lists the fillable forms of the signatory's documents, with the values they hold
// or, after a refused post, the values the signatory typed.
func (h *Handler) formDocuments(r *http.Request, s *signatory) ([]formDoc, error) {
	var out []formDoc
	for di, vd := range s.view.Documents {
		d := vd.Document
		fields, err := h.svc.SignatoryFormFields(r.Context(), s.sp, d.ID)
		if err != nil {
			return nil, err
		}
		if len(fields) == 0 {
			continue
		}
		typed := s.posted != nil && slices.Contains(s.posted["formdoc"], d.ID)
		fd := formDoc{ID: d.ID, Title: d.Title}
		for fi, f := range fields {
			ff := formField{ID: "ff-" + strconv.Itoa(di) + "-" + strconv.Itoa(fi), Input: formInputName(d.ID, f.Name), Name: f.Name,
				Label: f.Name, Kind: string(f.Kind), Value: f.Value, Locked: f.Locked, Multiline: f.Multiline,
				Required: f.Required, MaxLength: f.MaxLength, Error: s.fieldErrors[formInputName(d.ID, f.Name)]}
			if f.FieldKind != "" {
				ff.Label = f.Label
			}
			if typed && !f.Locked {
				ff.Value = postedValue(s.posted, ff.Input, f)
			}
			ff.Checked = f.Kind == order.FormCheckbox && ff.Value == "true"
			if f.Kind == order.FormRadio || f.Kind == order.FormChoice {
				options := f.Options
				if ff.Value != "" && !slices.Contains(options, ff.Value) {
					// An editable dropdown's own text, or a value the document holds outside its
					// options: shown as it is rather than silently replaced.
					options = append([]string{ff.Value}, options...)
				}
				if f.Kind == order.FormChoice && !slices.Contains(options, "") && !f.Required {
					options = append([]string{""}, options...)
				}
				for _, o := range options {
					ff.Choices = append(ff.Choices, choice{Value: o, Selected: o == ff.Value})
				}
			}
			fd.Fields = append(fd.Fields, ff)
		}
		out = append(out, fd)
	}
	return out, nil
}

// postedValue is what the form sent for field f: a checkbox not sent is unchecked, a radio group
// not sent has no choice; text from a text area has the browser's CRLF line ends made LF.
func postedValue(form url.Values, input string, f order.FormField) string {
	switch f.Kind {
	case order.FormCheckbox:
		return strconv.FormatBool(form.Get(input) != "")
	case order.FormRadio:
		return form.Get(input)
	}
	if !form.Has(input) {
		return f.Value
	}
	return strings.ReplaceAll(form.Get(input), "\r\n", "\n")
}

// signForms builds sign's documents input from the post: the fields whose value the signatory
// changed, of each document whose form was in the post. inputs[i][j] is the page's input name of
// documents[i].form.fields[j]; problems are the values refused here, by input name.
func (h *Handler) signForms(r *http.Request, s *signatory) (docs []signing.DocumentForm, inputs [][]string, problems map[string]string, err error) {
	t := i18n.T(s.ui().Language)
	problems = map[string]string{}
	seen := map[string]bool{}
	for _, id := range r.PostForm["formdoc"] {
		if seen[id] || s.view.Document(id) == nil {
			continue // the page offers no such form: a stale or forged post changes nothing
		}
		seen[id] = true
		fields, err := h.svc.SignatoryFormFields(r.Context(), s.sp, id)
		if err != nil {
			return nil, nil, nil, err
		}
		df := signing.DocumentForm{DocumentID: id}
		var names []string
		for _, f := range fields {
			if f.Locked {
				continue
			}
			input := formInputName(id, f.Name)
			v := postedValue(r.PostForm, input, f)
			// The document's own fields keep an unchanged value without a new appearance; the
			// signatory's own are always sent, so that a required one left empty is named beside
			// its input.
			if f.FieldKind == "" && (v == f.Value || (f.Kind == order.FormCheckbox && v == "false" && f.Value == "")) {
				continue
			}
			if utf8.RuneCountInString(v) > order.MaxMessageLen {
				problems[input] = t("formTooLong")
				continue
			}
			df.Fields = append(df.Fields, signing.FormValue{Field: f.Name, Value: v})
			names = append(names, input)
		}
		if len(df.Fields) > 0 {
			docs = append(docs, df)
			inputs = append(inputs, names)
		}
	}
	return docs, inputs, problems, nil
}

var formFieldPath = regexp.MustCompile(`^documents\[(\d+)\]\.form\.fields\[(\d+)\]$`)

// fieldProblem is the page's input a refused value of sign's documents input belongs to, with
// the rule it broke, or "" when the error is not about one.
func fieldProblem(err error, inputs [][]string) (input, message string) {
	de, ok := fault.As(err)
	if !ok || de.Code != fault.CodeInvalid {
		return "", ""
	}
	m := formFieldPath.FindStringSubmatch(de.Field)
	if m == nil {
		return "", ""
	}
	i, _ := strconv.Atoi(m[1])
	j, _ := strconv.Atoi(m[2])
	if i >= len(inputs) || j >= len(inputs[i]) {
		return "", ""
	}
	return inputs[i][j], de.Message
}

// addForms puts the documents' forms on a page that offers signing. A form that cannot be listed
// (a document over the field limit, the PDF budget full) leaves the page usable: signing without
// filling the form is still allowed.
func (h *Handler) addForms(r *http.Request, s *signatory, v *view) {
	if s.posted != nil {
		v.Name = s.posted.Get("name")
	}
	forms, err := h.formDocuments(r, s)
	if err != nil {
		if de, ok := fault.As(err); ok {
			v.Error = strings.TrimSpace(v.Error + " " + de.Error())
		} else {
			h.log.WarnContext(r.Context(), "list document form fields", "order", s.view.Order.ID, "err", err)
			v.Error = strings.TrimSpace(v.Error + " " + v.T("formUnavailable"))
		}
		return
	}
	if len(forms) == 0 {
		return
	}
	v.Forms = forms
	for _, p := range v.Providers {
		if p.ID != "" && p.LoginURL == "" && v.FormProvider == "" {
			v.FormProvider = p.ID
		}
		if p.LoginURL != "" {
			// A login provider posts the form to the login start, which keeps the values on the
			// server for the callback (signing.LoginStart.Form): its button joins the form.
			v.FormLogins = append(v.FormLogins, p)
		}
	}
	// Another provider that posts from this page has its own sign form, without the fields.
	for i := range v.Providers {
		if p := &v.Providers[i]; p.ID != "" && p.LoginURL == "" && p.ID != v.FormProvider {
			p.FormNote = v.T("formNotHere")
		}
	}
}
