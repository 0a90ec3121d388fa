// Command server is the runnable push server: the product brief's HTTP API on an
// embedded SQLite database (or MySQL/PostgreSQL), with the message center
// Scanner running beside it. On SIGINT or SIGTERM it drains the HTTP
// requests and the Scanner together, letting the vendor calls in flight
// finish and be recorded, then exits.
//
//	go run ./examples/server
//
// Configuration is by environment variables; README.md has the whole table.
// The providers are Umeng, JPush and Getui, each configured by its
// credentials:
//
//	UMENG_IOS_APPKEY, UMENG_IOS_APP_MASTER_SECRET           Umeng's iOS app
//	UMENG_ANDROID_APPKEY, UMENG_ANDROID_APP_MASTER_SECRET   Umeng's Android app
//	UMENG_BASE_URL                                          default https://msgapi.umeng.com
//	UMENG_FILECAST_THRESHOLD                                audiences this large go by filecast; default 0, never
//	JPUSH_APPKEY, JPUSH_MASTER_SECRET                       JPush's app (both platforms)
//	JPUSH_BASE_URL                                          default https://api.jpush.cn
//	JPUSH_APNS_PRODUCTION                                   default true
//	JPUSH_VIP                                               true for an app with JPush's VIP service (offline messages kept up to 10 days, not 3); default false
//	GETUI_APPID, GETUI_APPKEY, GETUI_MASTER_SECRET          Getui's app (both platforms)
//	GETUI_BASE_URL                                          default https://restapi.getui.com/v2
//
// The variables of one set are all set or all empty: half a set is a
// configuration error naming the variable that is missing. A device is
// pushed through the provider its push_platform names ("umeng", "jpush" or
// "getui"); a device registered without one is on the default provider:
// Umeng when it is configured, else JPush, else Getui.
//
// The phone makers' channels of each message class (service, marketing),
// each a JSON object sent with every Android push of that class under the
// push's own overrides:
//
//	UMENG_ANDROID_SERVICE_CHANNEL_PROPERTIES, UMENG_ANDROID_MARKETING_CHANNEL_PROPERTIES   channel_properties
//	JPUSH_SERVICE_CHANNELS, JPUSH_MARKETING_CHANNELS                                       third_party_channel entries
//	GETUI_SERVICE_UPS_OPTIONS, GETUI_MARKETING_UPS_OPTIONS                                 the makers' ups options
//
// With UMENG_RECEIPT_URL set (and UMENG_RECEIPT_SECRET, required when
// PUSH_API_TOKEN is), every Umeng push asks for receipts at that URL, and
// the server takes them at /api/v1.1/umeng/receipt, outside the bearer
// token, which Umeng cannot send; the query API reports their counts.
// With Getui configured the server takes Getui's signed receipts at
// /api/v1.1/getui/receipt, also outside the token: set the callback URL
// in Getui's console to lead there.
//
// With no credentials set for any provider it starts built-in fakes of all
// three (umengtest, jpushtest and getuitest, with their default apps) and
// logs "demo mode": everything works end to end, and nothing reaches a
// phone. With some credentials set, only the configured providers run and
// no fake is started; a push_platform naming another provider is refused
// at registration.
//
// Three endpoints answer without PUSH_API_TOKEN: /metrics (the library's
// OpenTelemetry metrics in the Prometheus text format), /healthz (200
// while the process runs, a shutdown's drain included) and /readyz (200
// when the database answers, every migration of this build is applied and
// a provider is configured; else 503 naming the failing check, or
// "draining" once a shutdown began). During the drain the API answers new
// requests 503 shutting_down. Every request gets a server span,
// continuing an incoming W3C traceparent, and every log line written while
// serving it carries its trace_id and span_id.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// The first signal drains (see run); a second one, no longer
		// caught, ends the process at once.
		<-ctx.Done()
		stop()
	}()
	if err := run(ctx, os.Getenv, log); err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}
