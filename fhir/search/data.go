package search

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
)

//go:generate go run ./internal/gen -o r4.json.gz

// r4Data is written by internal/gen from the official R4 definitions: every
// SearchParameter of search-parameters.json and the element types of every
// resource and datatype (profiles-resources.json, profiles-types.json).
//
//go:embed r4.json.gz
var r4Data []byte

// dataFile is the shape of r4.json.gz (see internal/gen).
type dataFile struct {
	Version string      `json:"version"`
	Types   []dataType  `json:"types"`
	Params  []dataParam `json:"params"`
}

type dataType struct {
	Name     string     `json:"n"`
	Kind     string     `json:"k"`
	Base     string     `json:"b"`
	Abstract bool       `json:"a"`
	Elements [][]string `json:"e"`
}

type dataParam struct {
	URL        string   `json:"url"`
	Code       string   `json:"code"`
	Base       []string `json:"base"`
	Type       string   `json:"type"`
	Expression string   `json:"expr"`
	Targets    []string `json:"target"`
	Components []struct {
		Definition string `json:"def"`
		Expression string `json:"expr"`
	} `json:"comp"`
	Comparators []string `json:"cmp"`
	Modifiers   []string `json:"mod"`
}

func loadData() (*dataFile, error) {
	zr, err := gzip.NewReader(bytes.NewReader(r4Data))
	if err != nil {
		return nil, fmt.Errorf("search: r4 data: %w", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("search: r4 data: %w", err)
	}
	var d dataFile
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, fmt.Errorf("search: r4 data: %w", err)
	}
	return &d, nil
}
