package service

import (
	"strconv"
	"strings"

	"github.com/fhirhub/fhirhub/fhir"
)

// ApplyJSONPatch applies an RFC 6902 JSON Patch document (add, remove,
// replace, move, copy, test) to doc and returns the patched value; doc is
// modified. Errors are *fhir.Error with the index of the failing
// operation in Expression ("patch[2]").
func ApplyJSONPatch(doc any, patch []byte) (any, error) {
	v, err := fhir.ParseJSON(patch)
	if err != nil {
		return nil, err
	}
	ops, ok := v.([]any)
	if !ok {
		return nil, fhir.Errorf(fhir.IssueStructure, "a JSON Patch document must be a JSON array of operations")
	}
	for i, o := range ops {
		op, ok := o.(map[string]any)
		at := "patch[" + strconv.Itoa(i) + "]"
		if !ok {
			return nil, fhir.Errorf(fhir.IssueStructure, "patch operation %d is not an object", i).At(at)
		}
		if doc, err = applyOp(doc, op); err != nil {
			if fe := fhir.AsError(err); fe != nil {
				return nil, fe.At(at)
			}
			return nil, err
		}
	}
	return doc, nil
}

func applyOp(doc any, op map[string]any) (any, error) {
	name, _ := op["op"].(string)
	path, ok := op["path"].(string)
	if !ok {
		return nil, fhir.Errorf(fhir.IssueStructure, "patch operation has no path")
	}
	tokens, err := parsePointer(path)
	if err != nil {
		return nil, err
	}
	switch name {
	case "add", "replace", "test":
		value, has := op["value"]
		if !has {
			return nil, fhir.Errorf(fhir.IssueStructure, "%s operation has no value", name)
		}
		switch name {
		case "add":
			return pointerAdd(doc, tokens, fhir.Clone(value))
		case "replace":
			if _, err := pointerGet(doc, tokens); err != nil {
				return nil, err
			}
			doc, _, err = pointerRemove(doc, tokens)
			if err != nil {
				return nil, err
			}
			return pointerAdd(doc, tokens, fhir.Clone(value))
		default:
			cur, err := pointerGet(doc, tokens)
			if err != nil {
				return nil, err
			}
			if string(fhir.MarshalJSON(cur)) != string(fhir.MarshalJSON(value)) {
				return nil, fhir.Errorf(fhir.IssueProcessing, "test failed at %s", path)
			}
			return doc, nil
		}
	case "remove":
		doc, _, err = pointerRemove(doc, tokens)
		return doc, err
	case "move", "copy":
		from, ok := op["from"].(string)
		if !ok {
			return nil, fhir.Errorf(fhir.IssueStructure, "%s operation has no from", name)
		}
		ft, err := parsePointer(from)
		if err != nil {
			return nil, err
		}
		var value any
		if name == "move" {
			if strings.HasPrefix(path+"/", from+"/") && path != from {
				return nil, fhir.Errorf(fhir.IssueProcessing, "cannot move %s into itself", from)
			}
			doc, value, err = pointerRemove(doc, ft)
		} else {
			value, err = pointerGet(doc, ft)
			value = fhir.Clone(value)
		}
		if err != nil {
			return nil, err
		}
		return pointerAdd(doc, tokens, value)
	}
	return nil, fhir.Errorf(fhir.IssueStructure, "unknown patch operation %q", name)
}

func parsePointer(p string) ([]string, error) {
	if p == "" {
		return nil, nil
	}
	if p[0] != '/' {
		return nil, fhir.Errorf(fhir.IssueStructure, "invalid JSON pointer %q", p)
	}
	parts := strings.Split(p[1:], "/")
	for i, s := range parts {
		parts[i] = strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
	}
	return parts, nil
}

func arrayIndex(tok string, n int, allowEnd bool) (int, error) {
	if allowEnd && tok == "-" {
		return n, nil
	}
	i, err := strconv.Atoi(tok)
	if err != nil || i < 0 || (tok != "0" && tok[0] == '0') {
		return 0, fhir.Errorf(fhir.IssueProcessing, "invalid array index %q", tok)
	}
	limit := n - 1
	if allowEnd {
		limit = n
	}
	if i > limit {
		return 0, fhir.Errorf(fhir.IssueProcessing, "array index %d out of range", i)
	}
	return i, nil
}

func pointerGet(doc any, tokens []string) (any, error) {
	cur := doc
	for _, t := range tokens {
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[t]
			if !ok {
				return nil, fhir.Errorf(fhir.IssueProcessing, "path not found: %q", t)
			}
			cur = v
		case []any:
			i, err := arrayIndex(t, len(c), false)
			if err != nil {
				return nil, err
			}
			cur = c[i]
		default:
			return nil, fhir.Errorf(fhir.IssueProcessing, "path not found: %q", t)
		}
	}
	return cur, nil
}

// pointerParent returns the container of the value at tokens (non-empty)
// and the last token, the value's key or index in it.
func pointerParent(doc any, tokens []string) (any, string, error) {
	parent, err := pointerGet(doc, tokens[:len(tokens)-1])
	return parent, tokens[len(tokens)-1], err
}

// pointerAdd adds value at tokens and returns the (possibly new) root.
func pointerAdd(doc any, tokens []string, value any) (any, error) {
	if len(tokens) == 0 {
		return value, nil
	}
	parent, last, err := pointerParent(doc, tokens)
	if err != nil {
		return nil, err
	}
	switch p := parent.(type) {
	case map[string]any:
		p[last] = value
		return doc, nil
	case []any:
		i, err := arrayIndex(last, len(p), true)
		if err != nil {
			return nil, err
		}
		p = append(p, nil)
		copy(p[i+1:], p[i:])
		p[i] = value
		return setAt(doc, tokens[:len(tokens)-1], p)
	}
	return nil, fhir.Errorf(fhir.IssueProcessing, "cannot add below a primitive value")
}

// pointerRemove removes the value at tokens, returning the root and it.
func pointerRemove(doc any, tokens []string) (any, any, error) {
	if len(tokens) == 0 {
		return nil, nil, fhir.Errorf(fhir.IssueProcessing, "cannot remove the whole document")
	}
	parent, last, err := pointerParent(doc, tokens)
	if err != nil {
		return nil, nil, err
	}
	switch p := parent.(type) {
	case map[string]any:
		v, ok := p[last]
		if !ok {
			return nil, nil, fhir.Errorf(fhir.IssueProcessing, "path not found: %q", last)
		}
		delete(p, last)
		return doc, v, nil
	case []any:
		i, err := arrayIndex(last, len(p), false)
		if err != nil {
			return nil, nil, err
		}
		v := p[i]
		p = append(p[:i:i], p[i+1:]...)
		doc, err = setAt(doc, tokens[:len(tokens)-1], p)
		return doc, v, err
	}
	return nil, nil, fhir.Errorf(fhir.IssueProcessing, "path not found: %q", last)
}

// setAt replaces the value at tokens (used after an array changed length).
func setAt(doc any, tokens []string, v any) (any, error) {
	if len(tokens) == 0 {
		return v, nil
	}
	parent, last, err := pointerParent(doc, tokens)
	if err != nil {
		return nil, err
	}
	switch p := parent.(type) {
	case map[string]any:
		p[last] = v
	case []any:
		i, err := arrayIndex(last, len(p), false)
		if err != nil {
			return nil, err
		}
		p[i] = v
	}
	return doc, nil
}
