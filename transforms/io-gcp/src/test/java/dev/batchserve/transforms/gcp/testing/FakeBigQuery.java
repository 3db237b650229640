package dev.batchserve.transforms.gcp.testing;

import com.google.api.services.bigquery.model.Table;
import com.google.api.services.bigquery.model.TableFieldSchema;
import com.google.api.services.bigquery.model.TableReference;
import com.google.api.services.bigquery.model.TableRow;
import com.google.api.services.bigquery.model.TableSchema;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.io.gcp.bigquery.BigQueryOptions;
import org.apache.beam.sdk.io.gcp.testing.FakeBigQueryServices;
import org.apache.beam.sdk.io.gcp.testing.FakeDatasetService;
import org.apache.beam.sdk.io.gcp.testing.FakeJobService;
import org.apache.beam.sdk.options.PipelineOptions;

/**
 * Beam's BigQuery fakes wired together for a test: a {@link FakeDatasetService} (its tables are
 * static, so one per test class; {@link #FakeBigQuery} clears them), a {@link FakeJobService} with
 * BigQuery's partition-decorator semantics ({@link PartitionReplacingJobService}), and the {@link
 * FakeBigQueryServices} to hand to {@code BigQueryIO} through {@code withTestServices}.
 */
public final class FakeBigQuery {
  public static final String PROJECT = "batchserve-test";

  public final FakeDatasetService datasets;
  public final FakeJobService jobs;
  public final FakeBigQueryServices services;

  public FakeBigQuery() {
    FakeDatasetService.setUp();
    datasets = new FakeDatasetService();
    jobs = new FakeJobService();
    services = new FakeBigQueryServices()
        .withDatasetService(datasets)
        .withJobService(new PartitionReplacingJobService(jobs, datasets));
  }

  /** Points the options at the fake project and a temp location the fake jobs write their files to. */
  public void configure(PipelineOptions options, String tempLocation) {
    options.setTempLocation(tempLocation);
    options.as(BigQueryOptions.class).setProject(PROJECT);
  }

  public FakeBigQuery dataset(String dataset) {
    try {
      datasets.createDataset(PROJECT, dataset, "", "", null);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    return this;
  }

  /** Creates {@code dataset.table} with nullable columns of the given BigQuery types and loads the rows. */
  public Table table(String dataset, String table, Map<String, String> columnTypes, List<TableRow> rows) {
    List<TableFieldSchema> fields = new ArrayList<>();
    columnTypes.forEach((name, type) -> fields.add(new TableFieldSchema().setName(name).setType(type).setMode("NULLABLE")));
    Table t = new Table()
        .setTableReference(new TableReference().setProjectId(PROJECT).setDatasetId(dataset).setTableId(table))
        .setSchema(new TableSchema().setFields(fields));
    try {
      datasets.createTable(t);
      datasets.insertAll(t.getTableReference(), rows, null);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    return t;
  }

  public List<TableRow> rows(String dataset, String table) {
    try {
      return datasets.getAllRows(PROJECT, dataset, table);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
