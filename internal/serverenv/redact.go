package serverenv

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// dsnPasswords returns the password a DSN holds, in any of the forms
// PUSH_DB_DSN takes (postgres://user:pass@host/db, a password= in its
// query, key=value with password=…, MySQL's user:pass@tcp(host)/db), and
// each of its parts around an "@" that a driver reading the DSN
// differently may print alone.
func dsnPasswords(dsn string) []string {
	var pws []string
	if _, q, ok := strings.Cut(dsn, "?"); ok { // postgres://host/db?password=…
		if v, err := url.ParseQuery(q); err == nil {
			pws = append(pws, v["password"]...)
		}
		if m := keywordPassword.FindStringSubmatch(q); m != nil {
			pws = append(pws, strings.Trim(m[1], "'"))
		}
	}
	m := keywordPassword.FindStringSubmatch(dsn)
	switch {
	case strings.Contains(dsn, "://"):
		rest := dsn[strings.Index(dsn, "://")+3:]
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			userinfo := rest[:at]
			if u, err := url.Parse("x://" + userinfo + "@h"); err == nil && u.User != nil {
				pw, _ := u.User.Password()
				pws = append(pws, pw) // decoded
			}
			if _, pw, ok := strings.Cut(userinfo, ":"); ok {
				pws = append(pws, pw) // as written
			}
		}
	case m != nil:
		pws = append(pws, strings.Trim(m[1], "'"))
	default: // MySQL: user:pass@protocol(address)/db
		if at := strings.LastIndex(dsn, "@"); at >= 0 {
			if _, pw, ok := strings.Cut(dsn[:at], ":"); ok {
				pws = append(pws, pw)
			}
		}
	}
	return withParts(pws)
}

// DSNHoldsPassword reports whether dsn holds a password in one of the
// forms PUSH_DB_DSN takes (the forms redactDSN takes out of an error): a
// message must then leave dsn out rather than print it.
func DSNHoldsPassword(dsn string) bool { return len(dsnPasswords(dsn)) > 0 }

// strayWords returns the words that follow an unquoted password=… of a
// key=value DSN up to the next key=value pair (a key libpq knows, before
// "=" or " = "): a password with a space that was not quoted, which the
// driver cannot parse, masks the first word of only, and names the next
// in its reason. A word with "=" in it whose key libpq does not know is
// such a word too, and so is its part before the "=".
func strayWords(dsn string) []string {
	loc := keywordPassword.FindStringSubmatchIndex(dsn)
	if loc == nil || strings.HasPrefix(dsn[loc[2]:], "'") {
		return nil
	}
	words := strings.Fields(dsn[loc[3]:])
	var out []string
	for i, w := range words {
		key, _, hasEq := strings.Cut(w, "=")
		if i+1 < len(words) && strings.HasPrefix(words[i+1], "=") && libpqKeys[strings.ToLower(w)] {
			break // "key = value", "key =value"
		}
		if hasEq && libpqKeys[strings.ToLower(key)] {
			break
		}
		out = append(out, w)
		if hasEq && key != "" {
			out = append(out, key)
		}
	}
	return out
}

// libpqKeys are the keywords of a key=value DSN (libpq's, which pgx
// reads).
var libpqKeys = map[string]bool{
	"host": true, "hostaddr": true, "port": true, "dbname": true, "user": true, "password": true, "passfile": true,
	"connect_timeout": true, "client_encoding": true, "options": true, "application_name": true,
	"fallback_application_name": true, "keepalives": true, "keepalives_idle": true, "keepalives_interval": true,
	"keepalives_count": true, "tcp_user_timeout": true, "replication": true, "gssencmode": true, "sslmode": true,
	"requiressl": true, "sslcompression": true, "sslcert": true, "sslkey": true, "sslpassword": true, "sslrootcert": true,
	"sslcrl": true, "sslcrldir": true, "sslsni": true, "requirepeer": true, "ssl_min_protocol_version": true,
	"ssl_max_protocol_version": true, "krbsrvname": true, "gsslib": true, "service": true, "target_session_attrs": true,
	"load_balance_hosts": true, "search_path": true, "statement_cache_capacity": true, "description_cache_capacity": true,
	"default_query_exec_mode": true, "min_read_buffer_size": true, "pool_max_conns": true, "sslnegotiation": true,
}

// dsnEcho finds a DSN a driver quotes in backquotes in its error ("cannot
// parse `…`").
var dsnEcho = regexp.MustCompile("`[^`]*`")

// keywordPassword finds password=… in a key=value DSN, quoted or not, with
// spaces around the "=".
var keywordPassword = regexp.MustCompile(`(?i)\bpassword\s*=\s*('(?:[^'\\]|\\.)*'|\S+)`)

// withParts adds to pws the parts of each around "@" (of 4 bytes or more:
// shorter ones would redact ordinary words), without empties.
func withParts(pws []string) []string {
	var out []string
	for _, pw := range pws {
		if pw == "" {
			continue
		}
		out = append(out, pw)
		if strings.Contains(pw, "@") {
			for _, part := range strings.Split(pw, "@") {
				if len(part) >= 4 {
					out = append(out, part)
				}
			}
		}
	}
	return out
}

// dsnError is an error of opening PUSH_DB_DSN's database whose text has
// the DSN's password taken out (a driver may print the DSN it could not
// parse); errors.Is and As still see the driver's error.
type dsnError struct {
	text string
	err  error
}

func (e *dsnError) Error() string { return e.text }
func (e *dsnError) Unwrap() error { return e.err }

// redactDSN returns err with every password of dsn in its text replaced
// by "xxxxx"; nil for nil.
func redactDSN(err error, dsn string) error {
	if err == nil {
		return nil
	}
	text := err.Error()
	for _, pw := range dsnPasswords(dsn) {
		if len(pw) >= 4 {
			text = strings.ReplaceAll(text, pw, "xxxxx")
			continue
		}
		// A short one as a whole word only: "e" would blank every e of
		// the message.
		re := regexp.MustCompile(`(^|[^\p{L}\p{N}])` + regexp.QuoteMeta(pw) + `($|[^\p{L}\p{N}])`)
		text = re.ReplaceAllString(text, "${1}xxxxx${2}")
	}
	if DSNHoldsPassword(dsn) {
		// The driver's copy of a DSN it could not parse: its masking
		// misses the words of a password with an unquoted space.
		text = dsnEcho.ReplaceAllStringFunc(text, func(echo string) string {
			if strings.Contains(strings.ToLower(echo), "password") {
				return "`PUSH_DB_DSN, not shown: it holds a password`"
			}
			return echo
		})
	}
	for _, w := range strayWords(dsn) {
		// As the driver names a word in its reason, or the server a
		// setting: quoted. A word with "=" right after the password may
		// be a runtime setting the server then refuses by name ("Br" of
		// Br=avo); it may as well be the password's, and is hidden.
		text = strings.ReplaceAll(text, strconv.Quote(w), `"xxxxx"`)
	}
	if text == err.Error() {
		return err
	}
	return &dsnError{text: text, err: err}
}
