package dev.batchserve.pipelines.config;

import dev.batchserve.pipelines.monitoring.AlertWebhook;
import java.util.List;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * A job file's {@code alerts}: the circuit breaker's limits, the features never compared with
 * training (as {@code --noDriftFeatures}) and the webhook that gets alerts ({@link AlertWebhook#to}).
 *
 * <pre>
 * alerts:
 *   thresholds: {maxDeadLetterRate: 0.05, maxPsi: off}
 *   noDriftFeatures: [signup_ts]
 *   webhook: https://hooks.example.com/batchserve
 * </pre>
 */
public record JobAlerts(
    @Nullable JobThresholds thresholds, @Nullable String webhook, @Nullable List<String> noDriftFeatures) {

  void validate(Problems p) {
    if (thresholds != null) {
      thresholds.validate(p);
    }
    if (noDriftFeatures != null) {
      for (String f : noDriftFeatures) {
        if (f == null || f.isBlank() || f.contains(",")) {
          p.add("alerts.noDriftFeatures must list feature names, but had '" + f + "'");
        }
      }
    }
    if (webhook != null) {
      p.check("alerts.webhook", () -> AlertWebhook.to(webhook));
    }
  }
}
