package search

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"golang.org/x/text/unicode/norm"
)

func TestNormalize(t *testing.T) {
	cases := []struct{ in, want string }{
		{"Müller", "muller"},
		{"ÉLODIE", "elodie"},
		{"  Anna   Marie\t\nSmith ", "anna marie smith"},
		{"José Ñúñez", "jose nunez"},
		{"Ærøskøbing", "aeroskobing"},
		{"Łódź", "lodz"},
		{"Straße", "strasse"},
		{"Ångström", "angstrom"},
		{"Dvořák", "dvorak"},
		{"Ελένη", "ελενη"},
		{"O'Hara-Smith", "o'hara-smith"},
		{"plain ascii", "plain ascii"},
		{"", ""},
		{"   ", ""},
		{"e\u0301", "e"},
		{"ABC\u00a0DEF", "abc def"},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			assert.Equal(t, tc.want, Normalize(tc.in))
		})
	}
}

func BenchmarkNormalize(b *testing.B) {
	for b.Loop() {
		Normalize("Amélie Müller-Lüdenscheidt")
	}
}

// normalizeReference is Normalize written plainly with norm.NFD.String.
func normalizeReference(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		if unicode.IsSpace(r) {
			b.WriteRune(' ')
			continue
		}
		r = unicode.ToLower(r)
		if f := fold(r); f != "" {
			b.WriteString(f)
		} else {
			b.WriteRune(r)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// FuzzNormalize compares Normalize with the plain definition.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"Müller", "ÉLODIE", "한국어", "ǅemal", "Ǻ", "ﬁ", " a\u00a0b ", "e\u0301\u0323", "Straße"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		if got, want := Normalize(s), normalizeReference(s); got != want {
			t.Fatalf("Normalize(%q) = %q, want %q", s, got, want)
		}
	})
}
