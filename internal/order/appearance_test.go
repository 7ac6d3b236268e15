package order_test

import (
	"reflect"
	"testing"

	"esign/internal/order"
)

func tmpl(t string, reps ...order.SignatureAppearanceReplacement) order.SignatureAppearanceTemplate {
	return order.SignatureAppearanceTemplate{Template: t, Replacements: reps}
}

func rep(placeholder string, from ...string) order.SignatureAppearanceReplacement {
	return order.SignatureAppearanceReplacement{Placeholder: placeholder, FromEvidence: from}
}

func TestRenderAppearance(t *testing.T) {
	claims := map[string]any{"name": "Åse Ødegård", "given_name": "Åse", "ssn": "010190-1234", "empty": "",
		"age": float64(36), "verified": true, "address": map[string]any{"country": "DK"}, "null": nil}
	cases := []struct {
		name   string
		a      *order.SignatureAppearance
		claims map[string]any
		want   order.RenderedAppearance
	}{
		{"nil appearance keeps the defaults", nil, claims, order.RenderedAppearance{}},
		{"placeholders filled, repeated ones too",
			&order.SignatureAppearance{DisplayName: []order.SignatureAppearanceTemplate{tmpl("{{name}} ({{name}})", rep("{{name}}", "name"))}},
			claims, order.RenderedAppearance{DisplayName: []string{"Åse Ødegård (Åse Ødegård)"}}},
		{"first present claim wins; empty and null count as absent",
			&order.SignatureAppearance{HeaderLeft: []order.SignatureAppearanceTemplate{tmpl("Hi {n}", rep("{n}", "missing", "null", "empty", "given_name", "name"))}},
			claims, order.RenderedAppearance{HeaderLeft: []string{"Hi Åse"}}},
		{"missing claim renders empty; a blank line is dropped",
			&order.SignatureAppearance{Footer: []order.SignatureAppearanceTemplate{tmpl("{{title}}", rep("{{title}}", "title")), tmpl("Title: {{title}}", rep("{{title}}", "title"))}},
			claims, order.RenderedAppearance{Footer: []string{"Title: "}}},
		{"numbers, booleans and objects as text",
			&order.SignatureAppearance{Footer: []order.SignatureAppearanceTemplate{tmpl("a b c", rep("a", "age"), rep("b", "verified"), rep("c", "address"))}},
			claims, order.RenderedAppearance{Footer: []string{`36 true {"country":"DK"}`}}},
		{"a value is not expanded again",
			&order.SignatureAppearance{Footer: []order.SignatureAppearanceTemplate{tmpl("X Y", rep("X", "trick"), rep("Y", "name"))}},
			map[string]any{"trick": "Y", "name": "N"}, order.RenderedAppearance{Footer: []string{"Y N"}}},
		{"identifier: the first present claim",
			&order.SignatureAppearance{IdentifierFromEvidence: []string{"cpr", "ssn", "name"}},
			claims, order.RenderedAppearance{Identifier: "010190-1234"}},
		{"no claims (drawn signature): literals stay, placeholders empty",
			&order.SignatureAppearance{IdentifierFromEvidence: []string{"ssn"}, HeaderLeft: []order.SignatureAppearanceTemplate{tmpl("ACME A/S {{x}}", rep("{{x}}", "x"))}},
			nil, order.RenderedAppearance{HeaderLeft: []string{"ACME A/S "}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.a.Render(c.claims); !reflect.DeepEqual(got, c.want) {
				t.Errorf("Render = %#v, want %#v", got, c.want)
			}
		})
	}
}

func TestAppearanceFor(t *testing.T) {
	orderLevel := &order.SignatureAppearance{IdentifierFromEvidence: []string{"order"}}
	own := &order.SignatureAppearance{IdentifierFromEvidence: []string{"own"}}
	cases := []struct {
		name      string
		orderA    *order.SignatureAppearance
		signatory *order.SignatureAppearance
		want      *order.SignatureAppearance
	}{
		{"none", nil, nil, nil},
		{"order's", orderLevel, nil, orderLevel},
		{"signatory's overrides", orderLevel, own, own},
		{"signatory's alone", nil, own, own},
	}
	for _, c := range cases {
		o := &order.SignatureOrder{SignatureAppearance: c.orderA}
		if got := o.AppearanceFor(&order.Signatory{SignatureAppearance: c.signatory}); got != c.want {
			t.Errorf("%s: AppearanceFor = %v, want %v", c.name, got, c.want)
		}
	}
}
