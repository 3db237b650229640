package dev.batchserve.transforms.monitoring;

import dev.batchserve.transforms.compare.ModelAgreement;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.values.KV;

/** The comparison as the counts the report shows: the previous run is the comparison's first side. */
final class ChangeCountsFn extends DoFn<ModelAgreement, KV<String, Long>> {
  private static final long serialVersionUID = 1L;

  @ProcessElement
  public void process(@Element ModelAgreement a, OutputReceiver<KV<String, Long>> out) {
    out.output(KV.of("compared", a.getCompared()));
    out.output(KV.of("changed", a.getChanged()));
    out.output(KV.of("added", a.getChallengerOnly()));
    out.output(KV.of("removed", a.getChampionOnly()));
  }
}
