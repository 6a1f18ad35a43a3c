package sweep

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/sgsweep/sgsweep/sim"
)

// configType is the type every spec path is resolved against.
var configType = reflect.TypeFor[sim.Config]()

// jsonName returns the JSON name of a struct field, or "" when encoding/json
// skips it.
func jsonName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	tag := f.Tag.Get("json")
	if tag == "-" {
		return ""
	}
	name, _, _ := strings.Cut(tag, ",")
	if name == "" {
		name = f.Name
	}
	return name
}

// fieldNames returns the JSON names of the fields of struct type t, in
// declaration order.
func fieldNames(t reflect.Type) []string {
	var names []string
	for i := range t.NumField() {
		if name := jsonName(t.Field(i)); name != "" {
			names = append(names, name)
		}
	}
	return names
}

// fieldByName returns the field of struct type t whose JSON name is name.
func fieldByName(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		if f := t.Field(i); jsonName(f) == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// lookupPath resolves the dotted path (JSON field names, e.g.
// "surrogate.scale") below struct type t: the field index sequence for
// reflect.Value.FieldByIndex and the field's type. The error names the
// unknown segment and lists the allowed ones.
func lookupPath(t reflect.Type, path string) ([]int, reflect.Type, error) {
	if path == "" {
		return nil, nil, fmt.Errorf("empty path")
	}
	var index []int
	var done []string
	for _, seg := range strings.Split(path, ".") {
		if t.Kind() != reflect.Struct {
			return nil, nil, fmt.Errorf("%s is %s: it has no field %q", strings.Join(done, "."), typeName(t), seg)
		}
		if seg == "" {
			return nil, nil, fmt.Errorf("empty segment in path %q", path)
		}
		f, ok := fieldByName(t, seg)
		if !ok {
			names := fieldNames(t)
			where := "unknown field"
			if len(done) > 0 {
				where = "unknown field of " + strings.Join(done, ".")
			}
			return nil, nil, fmt.Errorf("%s %q (allowed: %s)%s", where, seg, strings.Join(names, ", "), didYouMean(seg, names))
		}
		index = append(index, f.Index...)
		t = f.Type
		done = append(done, seg)
	}
	return index, t, nil
}

// pathCovers reports whether config path outer is path itself or one of its
// ancestors: "network" covers "network.hidden" and "network.hidden[0]".
func pathCovers(outer, path string) bool {
	if !strings.HasPrefix(path, outer) {
		return false
	}
	rest := path[len(outer):]
	return rest == "" || rest[0] == '.' || rest[0] == '['
}

// typeName describes a Go type to a spec author: "a number".
func typeName(t reflect.Type) string {
	if one, _, ok := scalarKindNames(t.Kind()); ok {
		return one
	}
	switch t.Kind() {
	case reflect.Slice:
		return "a list of " + pluralTypeName(t.Elem())
	case reflect.Struct:
		return "a mapping with keys " + strings.Join(fieldNames(t), ", ")
	}
	return t.String()
}

// pluralTypeName describes the elements of a list type: "numbers".
func pluralTypeName(t reflect.Type) string {
	if _, many, ok := scalarKindNames(t.Kind()); ok {
		return many
	}
	switch t.Kind() {
	case reflect.Slice:
		return "lists"
	case reflect.Struct:
		return "mappings"
	}
	return t.String() + " values"
}

// scalarKindNames describes the values of a scalar kind to a spec author,
// with an article ("a number") and in the plural ("numbers"); ok is false
// for other kinds.
func scalarKindNames(k reflect.Kind) (one, many string, ok bool) {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer", "integers", true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a non-negative integer", "non-negative integers", true
	case reflect.Float32, reflect.Float64:
		return "a number", "numbers", true
	case reflect.String:
		return "a string", "strings", true
	case reflect.Bool:
		return "true or false", "booleans", true
	}
	return "", "", false
}

// deepCopy returns a copy of v that shares no slice, map or pointer with it.
func deepCopy(v reflect.Value) reflect.Value {
	out := reflect.New(v.Type()).Elem()
	out.Set(v)
	if hasReferences(v.Type()) {
		copyReferences(out)
	}
	return out
}

// copyReferences replaces, in place, every slice, map and pointer reachable
// from the settable value v by a copy.
func copyReferences(v reflect.Value) {
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Field(i); f.CanSet() && hasReferences(f.Type()) {
				copyReferences(f)
			}
		}
	case reflect.Array:
		for i := range v.Len() {
			copyReferences(v.Index(i))
		}
	case reflect.Slice:
		if v.IsNil() {
			return
		}
		c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		reflect.Copy(c, v)
		if hasReferences(v.Type().Elem()) {
			for i := range c.Len() {
				copyReferences(c.Index(i))
			}
		}
		v.Set(c)
	case reflect.Map:
		if v.IsNil() {
			return
		}
		c := reflect.MakeMapWithSize(v.Type(), v.Len())
		iter := v.MapRange()
		for iter.Next() {
			c.SetMapIndex(deepCopy(iter.Key()), deepCopy(iter.Value()))
		}
		v.Set(c)
	case reflect.Pointer:
		if v.IsNil() {
			return
		}
		p := reflect.New(v.Type().Elem())
		p.Elem().Set(deepCopy(v.Elem()))
		v.Set(p)
	case reflect.Interface:
		if !v.IsNil() {
			v.Set(deepCopy(v.Elem()))
		}
	}
}

// referenceTypes caches hasReferences.
var referenceTypes sync.Map // reflect.Type → bool

// hasReferences reports whether values of type t can share memory with
// their copies (contain a slice, map, pointer or interface).
func hasReferences(t reflect.Type) bool {
	if r, ok := referenceTypes.Load(t); ok {
		return r.(bool)
	}
	r := false
	switch t.Kind() {
	case reflect.Slice, reflect.Map, reflect.Pointer, reflect.Interface:
		r = true
	case reflect.Array:
		r = hasReferences(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if t.Field(i).IsExported() && hasReferences(t.Field(i).Type) {
				r = true
			}
		}
	}
	referenceTypes.Store(t, r)
	return r
}

// splitPathSegments splits a config path suffix like ".shape[0].x" into
// ".shape", "[0]", ".x".
func splitPathSegments(suffix string) []string {
	var segs []string
	for suffix != "" {
		end := 1 + strings.IndexAny(suffix[1:], ".[")
		if end == 0 {
			end = len(suffix)
		}
		segs = append(segs, suffix[:end])
		suffix = suffix[end:]
	}
	return segs
}

// indexSegment parses "[i]" into i.
func indexSegment(seg string) (int, bool) {
	if len(seg) < 3 || seg[0] != '[' || seg[len(seg)-1] != ']' {
		return 0, false
	}
	i, err := strconv.Atoi(seg[1 : len(seg)-1])
	return i, err == nil && i >= 0
}
