package provider

import (
	"fmt"
	"slices"

	"github.com/tuisong/push/internal/textclip"
)

// Class says what kind of message a Notification is, in the terms the
// Android phone makers (Xiaomi, Huawei, Honor, OPPO, vivo, Meizu) use to
// decide how often and how loudly their channels deliver a push. Vendors
// map it to their own fields; see "Message classes" in the package
// documentation.
type Class string

// The message classes. The zero value leaves the class unset, and a vendor
// then sends none of its class fields, so the phone makers apply their own
// defaults (usually the quota of marketing messages).
const (
	// ClassMarketing is news, promotions and other content the user did
	// not ask for by an action of their own. Phone makers cap how many of
	// these a device receives a day.
	ClassMarketing Class = "marketing"
	// ClassService is a message about the user's own business: an order,
	// a chat, a login, a reminder they set. Phone makers deliver these
	// with fewer limits, and may punish an app that sends marketing as
	// service.
	ClassService Class = "service"
)

// Valid reports whether c is unset or one of the named classes.
func (c Class) Valid() bool { return c == "" || c == ClassMarketing || c == ClassService }

// Huawei's message categories (the category field of its push API), which
// decide a notification's class on Huawei phones. A notification without
// one, or from an app Huawei has not granted self-classification (自分类权益)
// for that category, counts as marketing (资讯营销): silent, and a few a
// day per device. HuaweiMarketing marks marketing; the others are service
// and communication (服务与通讯), each granted per app on application.
const HuaweiMarketing = "MARKETING"

// HuaweiServiceCategories are Huawei's service and communication
// categories.
var HuaweiServiceCategories = []string{"IM", "VOIP", "SUBSCRIPTION", "TRAVEL", "HEALTH", "WORK", "ACCOUNT",
	"EXPRESS", "FINANCE", "DEVICE_REMINDER", "MAIL", "CUSTOMER_SERVICE"}

// CheckHuaweiServiceCategory returns a *FieldError naming field unless v
// is empty or one of HuaweiServiceCategories.
func CheckHuaweiServiceCategory(field, v string) error {
	if v == "" || slices.Contains(HuaweiServiceCategories, v) {
		return nil
	}
	return &FieldError{Field: field, Reason: fmt.Sprintf("%q is not one of Huawei's service categories %v", v, HuaweiServiceCategories)}
}

// HuaweiCategory is the Huawei category a notification of class c is
// sent with by an app granted service, one of HuaweiServiceCategories
// (empty: none granted): HuaweiMarketing for marketing, service for
// service, and "" when c is unset or no service category is granted (a
// service push then counts as marketing on Huawei phones, which no field
// can change).
func HuaweiCategory(c Class, service string) string {
	switch c {
	case ClassMarketing:
		return HuaweiMarketing
	case ClassService:
		return service
	}
	return ""
}

// CheckClassKey returns a *FieldError naming field unless c is
// ClassService or ClassMarketing, the classes a provider's per-class
// defaults are kept by.
func CheckClassKey(field string, c Class) error {
	if c == ClassService || c == ClassMarketing {
		return nil
	}
	return &FieldError{Field: field, Reason: fmt.Sprintf("a class must be %q or %q, got %q", ClassService, ClassMarketing, c)}
}

// CheckClassChannel refuses what a class's channel defaults (a
// provider's per-class Options) set against their class c, naming the
// field fields gives for it: for marketing, a Huawei category other than
// HuaweiMarketing, a Huawei importance other than LOW, a vivo
// classification other than 0; for service, the marketing category or
// one Huawei does not have (CheckHuaweiServiceCategory), a LOW importance,
// a classification other than 1. Empty values, and a nil classification,
// are not checked.
func CheckClassChannel(c Class, fields ClassChannelFields, huaweiCategory, huaweiImportance string, vivoClassification *int) error {
	marketing := c == ClassMarketing
	switch {
	case huaweiCategory == "":
	case marketing && huaweiCategory != HuaweiMarketing:
		return &FieldError{Field: fields.HuaweiCategory, Reason: fmt.Sprintf("must be %q for marketing messages, got %q", HuaweiMarketing, huaweiCategory)}
	case !marketing:
		if err := CheckHuaweiServiceCategory(fields.HuaweiCategory, huaweiCategory); err != nil {
			return err
		}
	}
	switch {
	case huaweiImportance == "":
	case marketing && huaweiImportance != "LOW":
		return &FieldError{Field: fields.HuaweiImportance, Reason: fmt.Sprintf("must be LOW for marketing messages, got %q", huaweiImportance)}
	case !marketing && huaweiImportance == "LOW":
		return &FieldError{Field: fields.HuaweiImportance, Reason: "must not be LOW for service messages (LOW is marketing's)"}
	}
	if v := vivoClassification; v != nil {
		want := 1
		if marketing {
			want = 0
		}
		if *v != want {
			return &FieldError{Field: fields.VivoClassification, Reason: fmt.Sprintf("must be %d for %s messages, got %d", want, c, *v)}
		}
	}
	return nil
}

// vivo's second-level categories (the category field of its push API) of
// system messages (classification 1) and of operational ones (0). vivo
// refuses a category that is not in upper case, and one that contradicts
// the classification sent with it. It grants some apps categories of
// their own on application, which CheckVivoCategory does not refuse.
var (
	VivoSystemCategories      = []string{"IM", "ACCOUNT", "TODO", "DEVICE_REMINDER", "ORDER", "SUBSCRIPTION"}
	VivoOperationalCategories = []string{"NEWS", "CONTENT", "MARKETING", "SOCIAL"}
)

// CheckVivoCategory returns a *FieldError naming field when category is
// set and is not vivo's form (upper-case letters, digits and
// underscores), or when classification is 0 or 1 and category is one of
// vivo's categories of the other (VivoSystemCategories,
// VivoOperationalCategories). An empty category, and a nil
// classification, are not checked.
func CheckVivoCategory(field, category string, classification *int) error {
	if category == "" {
		return nil
	}
	for _, r := range category {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') && r != '_' {
			return &FieldError{Field: field, Reason: fmt.Sprintf("%q is not a vivo category: vivo takes upper-case letters, digits and underscores, such as %q", textclip.Runes(category, 32), "IM")}
		}
	}
	if classification == nil {
		return nil
	}
	switch {
	case *classification == 1 && slices.Contains(VivoOperationalCategories, category):
		return &FieldError{Field: field, Reason: fmt.Sprintf("%q is an operational category (classification 0), sent as a system message (1): vivo refuses the two together", category)}
	case *classification == 0 && slices.Contains(VivoSystemCategories, category):
		return &FieldError{Field: field, Reason: fmt.Sprintf("%q is a system category (classification 1), sent as an operational message (0): vivo refuses the two together", category)}
	}
	return nil
}

// VivoClassification is the vivo classification of class c: 0 for
// marketing, 1 for service, nil when c is unset.
func VivoClassification(c Class) *int {
	var n int
	switch c {
	case ClassMarketing:
		n = 0
	case ClassService:
		n = 1
	default:
		return nil
	}
	return &n
}

// ClassChannelFields names, for CheckClassChannel's errors, where a
// provider's per-class Options hold the Huawei category and importance
// and the vivo classification.
type ClassChannelFields struct {
	HuaweiCategory, HuaweiImportance, VivoClassification string
}
