package pades

import (
	"image"
	"testing"
)

func TestFitScalesDownOnly(t *testing.T) {
	cases := []struct{ w, h, wantW, wantH int }{
		{200, 80, 200, 80},
		{4000, 1000, 800, 200},
		{1000, 4000, 200, 800},
		{800, 800, 800, 800},
	}
	for _, c := range cases {
		got := fit(image.NewNRGBA(image.Rect(0, 0, c.w, c.h)), maxSealImageSide).Bounds()
		if got.Dx() != c.wantW || got.Dy() != c.wantH {
			t.Errorf("fit(%d×%d) = %d×%d, want %d×%d", c.w, c.h, got.Dx(), got.Dy(), c.wantW, c.wantH)
		}
	}
}
