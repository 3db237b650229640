/**
 * Run monitoring around the batch-scoring job: the previous run to compare with
 * ({@link dev.batchserve.pipelines.monitoring.PreviousRun}), the run report the driver writes
 * ({@link dev.batchserve.pipelines.monitoring.RunReport}), alerts
 * ({@link dev.batchserve.pipelines.monitoring.AlertWebhook}) and the freshness check
 * ({@link dev.batchserve.pipelines.monitoring.CheckStaleness}).
 *
 * <p>Files in each run directory, besides the sink's:
 *
 * <pre>
 * _QUALITY.json   the RunQuality, written by the pipeline before the circuit breaker judges it
 * _REPORT.json    status, timings, counts, completeness, inference timings, quality, drift, shift
 * _REPORT.html    the same as one self-contained page with inline SVG charts
 * metrics.prom    Prometheus text format, batchserve_* samples labelled with run_id
 * </pre>
 *
 * <p>A tripped or failed run writes its report too (status {@code tripped} / {@code failed}) into
 * its unpublished run directory; {@code _LATEST} keeps pointing at the previous run.
 */
package dev.batchserve.pipelines.monitoring;
