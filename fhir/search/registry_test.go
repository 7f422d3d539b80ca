package search

import (
	"testing"
	"time"
)

func TestR4ParamsCompile(t *testing.T) {
	start := time.Now()
	snap, err := buildR4()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("built in %v", time.Since(start))
	for _, f := range snap.failures {
		t.Errorf("%s (%s on %s): %q: %v", f.URL, f.Code, f.ResourceType, f.Expression, f.Err)
	}
	for _, f := range snap.emptyExprs {
		t.Logf("empty: %s (%s on %s): %q", f.URL, f.Code, f.ResourceType, f.Expression)
	}
}
