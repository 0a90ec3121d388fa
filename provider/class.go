package provider

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
