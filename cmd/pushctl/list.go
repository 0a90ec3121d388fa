package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"time"
)

// supersededReason is the REASON devices list gives an active link the
// user's pushes skip (push.UserDeviceInfo.Superseded).
const supersededReason = "superseded: another user's newer row holds the phone"

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
			fmt.Fprintf(w, "%d\t%t\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", dv.UserDeviceID, dv.Active, dash(dv.DeviceUUID), dash(dv.Platform),
				dash(dv.PushPlatform), dash(clip(dv.Name, 40)), dash(dv.PushToken), dash(dv.TokenState), dash(reason),
				dv.LinkedAt.UTC().Format(time.RFC3339))
		}
		return w.Flush()
	}
}
