package serverenv

import (
	"fmt"
	"log/slog"
	"strings"
)

// DriverLog writes go-sql-driver/mysql's own notes ("closing bad idle
// connection: EOF") to Log, one warn line each, instead of the driver's
// bare text on standard error. Give it to mysql.SetLogger, once, in a
// program's main.
type DriverLog struct{ Log *slog.Logger }

// Print implements mysql.Logger.
func (d DriverLog) Print(v ...any) {
	d.Log.Warn("mysql driver", slog.String("message", strings.TrimSpace(fmt.Sprint(v...))))
}
