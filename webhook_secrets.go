package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
)

// sealWebhookSecrets seals the webhook secrets an older version stored in clear (run once after
// upgrading; it is safe to run again, and while servers run).
func sealWebhookSecrets(ctx context.Context, cfg config, log *slog.Logger, stdout io.Writer) error {
	a, err := open(ctx, cfg, log, nil)
	if err != nil {
		return err
	}
	defer a.close()
	orders, deliveries, err := a.service.SealStoredWebhookSecrets(ctx)
	fmt.Fprintf(stdout, "sealed the webhook secrets of %d orders and %d deliveries\n", orders, deliveries)
	return err
}
