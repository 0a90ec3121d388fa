package umengtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
)

// maxFilterBytes is the real service's limit on a groupcast filter.
const maxFilterBytes = 3000

// profileKeys are filter conditions on data the fake does not keep (app
// version, channel, region, activity dates). They are checked for shape and
// then match every device, so only "tag" conditions narrow an audience.
var profileKeys = []string{
	"app_version", "channel", "device_model", "province", "country",
	"language", "launch_from", "not_launch_from",
}

// checkFilter validates a groupcast filter: a JSON object of at most 3000
// bytes holding a "where" condition.
func checkFilter(raw json.RawMessage) (map[string]any, *refusal) {
	filter, ok := decodeObject(raw)
	if !ok {
		return nil, refuse(CodeMissingFilter, "filter: required for groupcast, a JSON object")
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err == nil && compact.Len() > maxFilterBytes {
		return nil, refuse(CodeBadFilter, "filter: %d bytes is over the limit of %d", compact.Len(), maxFilterBytes)
	}
	where, ok := filter["where"].(map[string]any)
	if !ok {
		return nil, refuse(CodeBadFilter, "filter.where: required, a JSON object")
	}
	if _, err := matchCondition(where, Device{}); err != nil {
		return nil, refuse(CodeBadFilter, "filter.where: %v", err)
	}
	return where, nil
}

// matchCondition evaluates a filter condition against d: the keys of an
// object are and-ed; "and" and "or" take arrays of conditions, "not" one
// condition, "tag" a tag name. Every branch is evaluated, so a format error
// anywhere is reported whatever the device.
func matchCondition(node any, d Device) (bool, error) {
	obj, ok := node.(map[string]any)
	if !ok || len(obj) == 0 {
		return false, fmt.Errorf("a condition must be a non-empty object")
	}
	result := true
	for key, v := range obj {
		var m bool
		var err error
		switch {
		case key == "and" || key == "or":
			m, err = matchList(key, v, d)
		case key == "not":
			m, err = matchCondition(v, d)
			m = !m
		case key == "tag":
			tag, isString := v.(string)
			if !isString {
				return false, fmt.Errorf("tag must be a string")
			}
			m = slices.Contains(d.Tags, tag)
		case slices.Contains(profileKeys, key):
			if _, isString := v.(string); !isString {
				return false, fmt.Errorf("%s must be a string", key)
			}
			m = true
		default:
			return false, fmt.Errorf("unknown condition %q", key)
		}
		if err != nil {
			return false, err
		}
		result = result && m
	}
	return result, nil
}

func matchList(op string, v any, d Device) (bool, error) {
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		return false, fmt.Errorf("%s must be a non-empty array of conditions", op)
	}
	all, some := true, false
	for _, c := range list {
		m, err := matchCondition(c, d)
		if err != nil {
			return false, err
		}
		all, some = all && m, some || m
	}
	if op == "and" {
		return all, nil
	}
	return some, nil
}
