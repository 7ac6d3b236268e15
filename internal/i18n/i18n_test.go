package i18n

import (
	"strings"
	"testing"
)

func TestEveryLanguageHasEveryText(t *testing.T) {
	if len(texts) != len(Languages) {
		t.Errorf("%d languages have texts, %d are supported", len(texts), len(Languages))
	}
	for _, l := range Languages {
		table := texts[l.Code]
		if table == nil {
			t.Errorf("no texts for %s", l.Code)
			continue
		}
		for key := range texts[Default] {
			if strings.TrimSpace(table[key]) == "" {
				t.Errorf("%s lacks %q", l.Code, key)
			}
		}
		if len(table) != len(texts[Default]) {
			t.Errorf("%s has %d texts, %s %d", l.Code, len(table), Default, len(texts[Default]))
		}
	}
	if got := T("XX_XX")("sign"); got != "Sign" {
		t.Errorf("unknown language falls back to %q", got)
	}
	if !Supported("NB_NO") || Supported("nb") || HTML("FI_FI") != "fi" {
		t.Error("Supported/HTML disagree with the table")
	}
	if got := Codes(); got != "EN_US, DA_DK, SV_SE, NB_NO, FI_FI" {
		t.Errorf("Codes() = %q", got)
	}
}
