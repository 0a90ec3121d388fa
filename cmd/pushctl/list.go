package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strings"
	"time"
)

// supersededReason is the REASON devices list gives an active link the
// user's pushes skip (push.UserDeviceInfo.Superseded).
const supersededReason = "superseded: a newer row holds the phone (a newer login on it, or a newer device with its token)"

// devicesListCmd prints a user's devices with Service.ListDevices: every
// link, active or not, with the device's token state and a masked token.
func devicesListCmd(fs *flag.FlagSet, e *env) func(context.Context, []string) error {
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	return func(ctx context.Context, args []string) error {
		if err := wantArgs(args, 1, "USER"); err != nil {
			return err
		}
		d, svc, err := e.openReader(ctx)
		if err != nil {
			return err
		}
		defer d.Close()
		devs, err := svc.ListDevices(ctx, args[0])
		if err != nil {
			return err
		}
		if *asJSON {
			enc := json.NewEncoder(e.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(devs)
		}
		w := newTable(e.stdout)
		fmt.Fprintln(w, "USER_DEVICE_ID\tACTIVE\tUUID\tPLATFORM\tPUSH_PLATFORM\tNAME\tTOKEN\tTOKEN_STATE\tREASON\tLINKED_AT")
		for _, dv := range devs {
			reason := dv.TokenDisabledReason
			if reason == "" && dv.Superseded {
				reason = supersededReason
			}
			if dv.Unreadable != "" {
				// Its times read as the zero time: say so, not 0001-01-01.
				reason = strings.TrimPrefix(reason+"; unreadable: "+dv.Unreadable, "; ")
			}
			linked := "-"
			if !dv.LinkedAt.IsZero() {
				linked = dv.LinkedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(w, "%d\t%t\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", dv.UserDeviceID, dv.Active, dash(dv.DeviceUUID), dash(dv.Platform),
				dash(dv.PushPlatform), dash(clip(dv.Name, 40)), dash(dv.PushToken), dash(dv.TokenState), dash(clip(reason, 120)), linked)
		}
		return w.Flush()
	}
}
