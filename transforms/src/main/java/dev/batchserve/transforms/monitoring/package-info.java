/**
 * Run monitoring inside the pipeline: data quality and drift against the training statistics of the
 * {@code FeatureSpec}, the prediction distribution and its change against the previous run
 * ({@link dev.batchserve.transforms.monitoring.MeasureRunQuality}, one
 * {@link dev.batchserve.transforms.monitoring.RunQuality} per run), the distances it uses
 * ({@link dev.batchserve.transforms.monitoring.Drift}: PSI, Jensen-Shannon, L-infinity), and the
 * {@link dev.batchserve.transforms.monitoring.CircuitBreaker} that fails a run beyond its
 * {@link dev.batchserve.transforms.monitoring.QualityThresholds} before anything is published.
 *
 * <pre>{@code
 * PCollection<RunQuality> passed = rows
 *     .apply(MeasureRunQuality.<String>of(spec).withRunInfo(run)
 *         .withPredictions(keyed.predictions()).withDeadLetters(deadLetters))
 *     .apply(CircuitBreaker.of(QualityThresholds.defaults()));
 * keyed.predictions().apply(SinkWithMetadata.<String>files(root).withRunInfo(run)
 *     .publishAfter(keyed.counts(), passed));
 * }</pre>
 */
package dev.batchserve.transforms.monitoring;
