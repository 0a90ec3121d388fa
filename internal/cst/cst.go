// Package cst is China Standard Time, the zone the Chinese push vendors
// read their days and times in (Umeng's policy times, JPush's report
// days), built without tzdata so that clients and fakes run on hosts
// without it.
package cst

import "time"

// Location is UTC+8, without daylight saving time.
var Location = time.FixedZone("CST", 8*60*60)
