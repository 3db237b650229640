package dev.batchserve.transforms.gcp.testing;

import com.google.api.client.http.AbstractInputStreamContent;
import com.google.api.services.bigquery.model.Job;
import com.google.api.services.bigquery.model.JobConfigurationExtract;
import com.google.api.services.bigquery.model.JobConfigurationLoad;
import com.google.api.services.bigquery.model.JobConfigurationQuery;
import com.google.api.services.bigquery.model.JobConfigurationTableCopy;
import com.google.api.services.bigquery.model.JobReference;
import com.google.api.services.bigquery.model.JobStatistics;
import com.google.api.services.bigquery.model.Table;
import com.google.api.services.bigquery.model.TableReference;
import com.google.api.services.bigquery.model.TableRow;
import java.io.IOException;
import java.io.Serializable;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.beam.sdk.io.gcp.bigquery.BigQueryServices.JobService;
import org.apache.beam.sdk.io.gcp.testing.FakeDatasetService;
import org.apache.beam.sdk.io.gcp.testing.FakeJobService;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Beam's {@link FakeJobService} plus BigQuery's documented semantics of a load job with
 * {@code WRITE_TRUNCATE} into a partition decorator ({@code table$20261129}): that partition's rows
 * are replaced, the other partitions are kept. The Beam fake ignores the decorator (it appends to
 * the base table), which would hide duplicates instead of proving there are none.
 *
 * <p>Partitions are taken from the {@code prediction_timestamp} strings the sink writes; the rows
 * are dropped when the job starts (a fake load job never fails after it started).
 */
public final class PartitionReplacingJobService implements JobService, Serializable {
  private static final long serialVersionUID = 1L;
  private static final DateTimeFormatter TIMESTAMP =
      DateTimeFormatter.ofPattern("uuuu-MM-dd HH:mm:ss.SSSSSS 'UTC'", Locale.ROOT).withZone(ZoneOffset.UTC);

  private final FakeJobService jobs;
  private final FakeDatasetService datasets;

  public PartitionReplacingJobService(FakeJobService jobs, FakeDatasetService datasets) {
    this.jobs = jobs;
    this.datasets = datasets;
  }

  @Override
  public void startLoadJob(JobReference jobRef, JobConfigurationLoad load) throws InterruptedException, IOException {
    TableReference dest = load.getDestinationTable();
    int dollar = dest.getTableId().indexOf('$');
    if (dollar >= 0 && "WRITE_TRUNCATE".equals(load.getWriteDisposition())) {
      TableReference base = dest.clone().setTableId(dest.getTableId().substring(0, dollar));
      dropPartition(base, dest.getTableId().substring(dollar + 1));
    }
    jobs.startLoadJob(jobRef, load);
  }

  private void dropPartition(TableReference base, String partition) throws InterruptedException, IOException {
    @Nullable Table table = datasets.getTable(base);
    if (table == null) {
      return;
    }
    String type = table.getTimePartitioning().getType();
    String field = table.getTimePartitioning().getField();
    DateTimeFormatter id = DateTimeFormatter.ofPattern("HOUR".equals(type) ? "uuuuMMddHH" : "uuuuMMdd", Locale.ROOT);
    List<TableRow> kept = new ArrayList<>();
    for (TableRow row : datasets.getAllRows(base.getProjectId(), base.getDatasetId(), base.getTableId())) {
      String own = id.format(ZonedDateTime.parse((String) row.get(field), TIMESTAMP));
      if (!own.equals(partition)) {
        kept.add(row);
      }
    }
    datasets.deleteTable(base);
    datasets.createTable(table);
    if (!kept.isEmpty()) {
      datasets.insertAll(base, kept, null);
    }
  }

  @Override
  public void startLoadJob(JobReference jobRef, JobConfigurationLoad load, AbstractInputStreamContent content)
      throws InterruptedException, IOException {
    jobs.startLoadJob(jobRef, load, content);
  }

  @Override
  public void startExtractJob(JobReference jobRef, JobConfigurationExtract extract)
      throws InterruptedException, IOException {
    jobs.startExtractJob(jobRef, extract);
  }

  @Override
  public void startQueryJob(JobReference jobRef, JobConfigurationQuery query) throws IOException, InterruptedException {
    jobs.startQueryJob(jobRef, query);
  }

  @Override
  public void startCopyJob(JobReference jobRef, JobConfigurationTableCopy copy)
      throws IOException, InterruptedException {
    jobs.startCopyJob(jobRef, copy);
  }

  @Override
  public Job pollJob(JobReference jobRef, int maxAttempts) throws InterruptedException {
    return jobs.pollJob(jobRef, maxAttempts);
  }

  @Override
  public JobStatistics dryRunQuery(String projectId, JobConfigurationQuery query, @Nullable String location)
      throws InterruptedException, IOException {
    return jobs.dryRunQuery(projectId, query, location);
  }

  @Override
  public Job getJob(JobReference jobRef) throws IOException, InterruptedException {
    return jobs.getJob(jobRef);
  }

  @Override
  public void close() throws Exception {
    jobs.close();
  }
}
