# batchserve: the verbs a user types. `make help` lists them.
MVN        ?= mvn -B -q
WORK       ?= work
SAMPLE_DIR := $(WORK)/sample/fraud
MODEL_DIR  := $(WORK)/models/fraud-mlp/1
OUTPUT     ?= $(WORK)/predictions/fraud
RUNNER     ?= DirectRunner
RUN_DATE   ?= $(shell date -u +%Y-%m-%d)
RUN_ARGS   ?=
ACCOUNTS   ?= 2000
PIPELINES  := $(MVN) -pl pipelines exec:java

.PHONY: test-deps help build run run-flink flink-up flink-down flink-status template sample train-demo test package clean inspect verify-model bench-models bench bench-recommend bench-runners run-job run-fraud-transactions run-recommend run-churn lookup check-staleness

help:
	@echo "make run          build, generate the sample, train the demo model, score every account (Direct runner)"
	@echo "make test         run the whole test suite (mvn verify), then build examples/consumer against the installed jars"
	@echo "make run-flink    the same job on Flink: embedded by default, FLINK_MASTER=host:port for a cluster"
	@echo "make flink-up     start a local Flink session cluster from Maven jars ($(FLINK_DIR)/, FLINK_TMS=$(FLINK_TMS) TaskManagers)"
	@echo "make flink-down   stop it (logs stay in $(FLINK_DIR)/log)"
	@echo "make template     Dataflow Flex Template build context in $(TEMPLATE_DIR): metadata.json, Dockerfile, bundled jar"
	@echo "make sample       write the fraud sample ($(ACCOUNTS) accounts) to $(SAMPLE_DIR)"
	@echo "make train-demo   train and export the demo TF model to $(MODEL_DIR)"
	@echo "make test-deps    install what the S3 and DynamoDB tests start: dynalite (npm) into .ci/node, S3Proxy's class path"
	@echo "make package      build the jars without running tests"
	@echo "make inspect MODEL=dir / make verify-model MODEL=dir   show / check a model directory"
	@echo "make bench-models raw records/s of each model backend (TF, ONNX, XGBoost, linear) per batch size"
	@echo "make bench        the benchmark suite: raw engines, batching in the pipeline, end to end at 1M and 5M rows, Redis store, recommendations, runners"
	@echo "make bench-recommend  top-$(BENCH_K) for $(BENCH_USERS) users over $(BENCH_ITEMS) items x $(BENCH_DIM): users/s, GFLOP/s vs the raw TF matmul"
	@echo "make bench-runners    the fraud job ($(RUNNER_BENCH_RECORDS) rows) on Direct, Flink embedded and a local Flink cluster, predictions compared"
	@echo "make run-job      the config-driven job (JOB=$(JOB))"
	@echo "make run-fraud-transactions / run-recommend / run-churn   the other worked examples (RUNNER=FlinkRunner: on Flink)"
	@echo "make lookup KEY=... REDIS=host:port PREFIX=...            a served prediction, with its age"
	@echo "make check-staleness OUTPUT=... INTERVAL=daily            exit 0 while the latest run is fresh"
	@echo "make clean        remove build outputs and $(WORK)/"
	@echo "Variables: RUNNER=$(RUNNER) RUN_DATE=$(RUN_DATE) OUTPUT=$(OUTPUT) RUN_ARGS='--batchSize=512 ...'"

build:
	@echo "==> Building and installing the modules (tests skipped; 'make test' runs them)"
	$(MVN) install -DskipTests

$(SAMPLE_DIR)/accounts.csv:
	@echo "==> Generating the fraud sample: $(ACCOUNTS) accounts, seed 42"
	$(PIPELINES) -Dexec.mainClass=dev.batchserve.pipelines.fraud.GenerateFraudSample \
	  -Dexec.args="--out=$(SAMPLE_DIR) --accounts=$(ACCOUNTS) --seed=42"

$(MODEL_DIR)/model-manifest.json:
	@echo "==> Training the demo fraud model (TensorFlow Java SavedModel, no Python)"
	$(PIPELINES) -Dexec.mainClass=dev.batchserve.pipelines.fraud.TrainFraudModel \
	  -Dexec.args="--modelDir=$(MODEL_DIR) --accounts=20000 --seed=7 --version=1"

sample: build $(SAMPLE_DIR)/accounts.csv

train-demo: build $(MODEL_DIR)/model-manifest.json

run: build $(SAMPLE_DIR)/accounts.csv $(MODEL_DIR)/model-manifest.json
	@echo "==> Scoring $(SAMPLE_DIR)/accounts.csv with $(MODEL_DIR) on the $(RUNNER) for run date $(RUN_DATE)"
	$(PIPELINES) -Dexec.mainClass=dev.batchserve.pipelines.BatchScoringPipeline \
	  -Dexec.args="--runner=$(RUNNER) --input=$(SAMPLE_DIR)/accounts.csv --model=$(MODEL_DIR) --output=$(OUTPUT) --runDate=$(RUN_DATE) $(RUN_ARGS)"
	@echo "==> Predictions: $(OUTPUT)/$$(cat $(OUTPUT)/_LATEST)"

# Flink runs in a forked JVM (exec:exec): Flink's user-code class loading fails inside exec:java's
# class loader (ClassNotFoundException: org.apache.flink.api.common.ExecutionConfig).
# Paths are made absolute: on a cluster the TaskManagers run in their own working directory.
FLINK_MASTER ?= [local]
FLINK_DIR    ?= $(WORK)/flink
FLINK_TMS    ?= 1
run-flink: build $(SAMPLE_DIR)/accounts.csv $(MODEL_DIR)/model-manifest.json
	@echo "==> Scoring $(SAMPLE_DIR)/accounts.csv on Flink ($(FLINK_MASTER)) for run date $(RUN_DATE)"
	$(MVN) -Pflink -pl pipelines exec:exec -Dexec.executable=java -Dexec.workingdir=$(CURDIR) \
	  -Dexec.args="-cp %classpath dev.batchserve.pipelines.BatchScoringPipeline --runner=FlinkRunner --flinkMaster=$(FLINK_MASTER) --parallelism=2 --input=$(abspath $(SAMPLE_DIR))/accounts.csv --model=$(abspath $(MODEL_DIR)) --output=$(abspath $(OUTPUT)) --runDate=$(RUN_DATE) $(RUN_ARGS)"
	@if [ "$(FLINK_MASTER)" != "[local]" ]; then echo "==> Jobs on $(FLINK_MASTER):"; curl -s http://$(FLINK_MASTER)/jobs/overview; echo; fi

# A Flink 1.19.0 session cluster from Maven jars (flink/pom.xml lists them; no flink-dist): a JobManager
# and FLINK_TMS TaskManager JVMs on 127.0.0.1 with free ports. State (pids, ports): $(FLINK_DIR)/cluster.json;
# the REST address alone: $(FLINK_DIR)/rest-address.
FLINK_CLI = $(MVN) -pl pipelines exec:java -Dexec.mainClass=dev.batchserve.pipelines.runners.FlinkClusterCli
flink-up: build
	@echo "==> Starting a Flink session cluster in $(FLINK_DIR) ($(FLINK_TMS) TaskManager(s))"
	$(FLINK_CLI) -Dexec.args="up --dir=$(abspath $(FLINK_DIR)) --pom=$(CURDIR)/flink/pom.xml --taskManagers=$(FLINK_TMS)"
	@echo "==> Submit the scoring job: make run-flink FLINK_MASTER=$$(cat $(FLINK_DIR)/rest-address)"

flink-down:
	$(FLINK_CLI) -Dexec.args="down --dir=$(abspath $(FLINK_DIR))"

flink-status:
	$(FLINK_CLI) -Dexec.args="status --dir=$(abspath $(FLINK_DIR))"

# Dataflow Flex Template build context: metadata.json generated from BatchScoringOptions, the Dockerfile
# (also checked in as docker/Dockerfile) and the bundled jar with the Dataflow runner.
TEMPLATE_DIR ?= $(WORK)/template
template:
	@echo "==> Building the bundled jar with the Dataflow runner (-Pdataflow,bundle)"
	$(MVN) -Pdataflow,bundle -DskipDirectRunner -pl pipelines -am package -DskipTests
	@echo "==> Writing $(TEMPLATE_DIR)/metadata.json and Dockerfile"
	$(PIPELINES) -Dexec.mainClass=dev.batchserve.pipelines.templates.WriteFlexTemplate -Dexec.args="--out=$(abspath $(TEMPLATE_DIR))"
	cp pipelines/target/batchserve-pipelines-*-bundled.jar $(TEMPLATE_DIR)/batchserve-pipelines-bundled.jar
	@ls -la $(TEMPLATE_DIR)

# The whole suite, then the consumer example, built against the installed modules like any user's project.
# dynalite (npm) and S3Proxy's class path for the DynamoDB and S3 tests; .ci/run does the same.
test-deps:
	MVN="$(MVN)" bash .ci/install-aws-test-servers.sh

test: test-deps
	mvn -B verify
	mvn -B -q install -DskipTests
	mvn -B -f examples/consumer/pom.xml verify

package:
	$(MVN) package -DskipTests

inspect: build
	$(MVN) -pl models exec:java -Dexec.mainClass=dev.batchserve.models.cli.ModelCli -Dexec.args="inspect $(MODEL)"

verify-model: build
	$(MVN) -pl models exec:java -Dexec.mainClass=dev.batchserve.models.cli.ModelCli -Dexec.args="verify $(MODEL)"

bench-models: build
	@mkdir -p $(WORK)/bench
	OMP_WAIT_POLICY=PASSIVE $(MVN) -pl models exec:java -Dexec.classpathScope=compile -Dexec.mainClass=dev.batchserve.models.bench.RawEngineBenchmark \
	  -Dexec.args="--out $(WORK)/bench/raw-engines.json --work-dir $(WORK)/bench/models"

# Benchmarks (not tests: no timing assertions anywhere). Figures go to $(WORK)/bench/*.json and the
# tables are printed; BENCHMARKS.md summarises a run. BENCH_SIZES sets the end-to-end sizes.
BENCH_RECORDS ?= 5000000
BENCH_SIZES   ?= 1000000 5000000
FLINK_LOCAL   := --runner=FlinkRunner --flinkMaster=[local] --parallelism=2
BENCH_JAVA     = $(MVN) -Pflink -pl pipelines exec:exec -Dexec.executable=java -Dexec.workingdir=$(CURDIR)
bench: bench-models
	@mkdir -p $(WORK)/bench
	@echo "==> Inference inside the pipeline vs the raw TF loop (Flink embedded, $(BENCH_RECORDS) records)"
	$(BENCH_JAVA) -Dexec.args="-Xmx4g -cp %classpath dev.batchserve.pipelines.bench.PipelineBenchmark --out=$(WORK)/bench/pipeline.json --records=$(BENCH_RECORDS) --batchSizes=1,32,256,4096 $(FLINK_LOCAL)"
	@echo "==> The same at batch 256 and 4096 with Flink's DataStream translation for batch and object reuse"
	$(BENCH_JAVA) -Dexec.args="-Xmx4g -cp %classpath dev.batchserve.pipelines.bench.PipelineBenchmark --out=$(WORK)/bench/pipeline-datastream.json --records=$(BENCH_RECORDS) --batchSizes=256,4096 $(FLINK_LOCAL) --useDataStreamForBatch=true --objectReuse=true"
	@for n in $(BENCH_SIZES); do \
	  echo "==> The fraud job end to end, $$n accounts (Flink embedded, one JVM per size)"; \
	  $(BENCH_JAVA) -Dexec.args="-Xmx2g -cp %classpath dev.batchserve.pipelines.bench.EndToEndBenchmark --records=$$n --out=$(WORK)/bench/e2e-$$n.json $(FLINK_LOCAL)" || exit 1; \
	done
	@echo "==> Redis sink write rate and lookup latency on a local redis-server"
	$(MVN) -pl transforms exec:java -Dexec.classpathScope=test -Dexec.mainClass=dev.batchserve.transforms.testing.StoreBenchmark -Dexec.args="--out=$(WORK)/bench/store.json"
	$(BENCH_RECOMMEND)
	$(BENCH_RUNNERS)

# Recommendations (issue 10): top-k users/s and GFLOP/s in the pipeline against the raw TF matmul.
BENCH_USERS ?= 100000
BENCH_ITEMS ?= 10000
BENCH_DIM   ?= 64
BENCH_K     ?= 100
define BENCH_RECOMMEND
@mkdir -p $(WORK)/bench
@echo "==> Recommendations: top-$(BENCH_K) for $(BENCH_USERS) users over $(BENCH_ITEMS) items x $(BENCH_DIM), raw TF vs the pipeline (Flink embedded)"
$(BENCH_JAVA) -Dexec.args="-Xmx6g -cp %classpath dev.batchserve.pipelines.bench.RecommendBenchmark --out=$(WORK)/bench/recommend.json --workDir=$(WORK)/bench/recommend --users=$(BENCH_USERS) --items=$(BENCH_ITEMS) --dim=$(BENCH_DIM) --k=$(BENCH_K) --batchSize=256 $(FLINK_LOCAL)"
endef
bench-recommend: build
	$(BENCH_RECOMMEND)

# The same fraud job on the Direct runner, Flink embedded and a local Flink session cluster (its jars
# copied into $(WORK)/bench/flink-cluster/lib by a Maven run that reads the same local repository as MVN).
RUNNER_BENCH_RECORDS ?= 200000
BENCH_MAVEN_PROPS = $(filter -Dmaven.repo.local=%,$(MVN)) $(if $(filter -o --offline,$(MVN)),-Dbatchserve.mavenOffline=true)
define BENCH_RUNNERS
@mkdir -p $(WORK)/bench
@echo "==> The fraud job, $(RUNNER_BENCH_RECORDS) accounts, on Direct, Flink embedded and a Flink session cluster"
$(BENCH_JAVA) -Dexec.args="-Xmx6g $(BENCH_MAVEN_PROPS) -cp %classpath dev.batchserve.pipelines.bench.RunnerBenchmark --records=$(RUNNER_BENCH_RECORDS) --out=$(WORK)/bench/runners.json --workDir=$(WORK)/bench/e2e --flinkDir=$(abspath $(WORK))/bench/flink-cluster --flinkPom=$(CURDIR)/flink/pom.xml"
endef
bench-runners: build
	$(BENCH_RUNNERS)

# The other worked examples and the config-driven job.
JOB       ?= pipelines/src/main/resources/jobs/fraud-daily.yaml
USERS     ?= 10000
ITEMS     ?= 2000
CUSTOMERS ?= 10000
# RUNNER=FlinkRunner runs the job on Flink embedded (FLINK_MASTER=[local]) or a cluster
# (FLINK_MASTER=host:port) in a forked JVM, like run-flink; any other runner runs in exec:java.
ifeq ($(RUNNER),FlinkRunner)
RUN_MAIN = $(MVN) -Pflink -pl pipelines exec:exec -Dexec.executable=java -Dexec.workingdir=$(CURDIR) \
  -Dexec.args="-cp %classpath $(1) --runner=FlinkRunner --flinkMaster=$(FLINK_MASTER) --parallelism=2 $(2)"
else
RUN_MAIN = $(PIPELINES) -Dexec.mainClass=$(1) -Dexec.args="--runner=$(RUNNER) $(2)"
endif

run-job: build $(SAMPLE_DIR)/accounts.csv $(MODEL_DIR)/model-manifest.json
	@echo "==> Running the job $(JOB) for run date $(RUN_DATE) on the $(RUNNER)"
	$(call RUN_MAIN,dev.batchserve.pipelines.config.ConfigJob,--config=$(JOB) --runDate=$(RUN_DATE) $(RUN_ARGS))

# Stores beside the files: RUN_ARGS="--jdbcUrl=jdbc:postgresql://... --jdbcTable=fraud_scores --redisHost=..."
# (the fraud job serves the view fraud_risk(account_id, risk_score, score_date, model_version));
# churn to BigQuery: RUN_ARGS="--bigQueryTable=project:dataset.churn --tempLocation=gs://bucket/tmp".
run-fraud-transactions: build $(MODEL_DIR)/model-manifest.json
	$(call RUN_MAIN,dev.batchserve.pipelines.fraud.ScoreFraudTransactions,--accounts=$(ACCOUNTS) --model=$(abspath $(MODEL_DIR)) --fraudTxOutput=$(abspath $(WORK))/predictions/fraud-transactions --runDate=$(RUN_DATE) $(RUN_ARGS))

run-recommend: build
	$(call RUN_MAIN,dev.batchserve.pipelines.recommend.RecommendPipeline,--users=$(USERS) --items=$(ITEMS) --recsModel=$(abspath $(WORK))/models/recs-topk/1 --recsOutput=$(abspath $(WORK))/predictions/recs --runDate=$(RUN_DATE) $(RUN_ARGS))

run-churn: build
	$(call RUN_MAIN,dev.batchserve.pipelines.churn.ChurnPipeline,--customers=$(CUSTOMERS) --churnModel=$(abspath $(WORK))/models/churn-logistic/1 --churnOutput=$(abspath $(WORK))/predictions/churn --runDate=$(RUN_DATE) $(RUN_ARGS))

# Serving and freshness.
REDIS    ?= 127.0.0.1:6379
PREFIX   ?= fraud
INTERVAL ?= daily
lookup: build
	$(MVN) -pl transforms exec:java -Dexec.mainClass=dev.batchserve.transforms.serving.LookupCli \
	  -Dexec.args="lookup $(KEY) --redis $(REDIS) --prefix $(PREFIX)"

check-staleness: build
	$(PIPELINES) -Dexec.mainClass=dev.batchserve.pipelines.monitoring.CheckStaleness \
	  -Dexec.args="--output=$(abspath $(OUTPUT)) --interval=$(INTERVAL) $(if $(SLA),--sla=$(SLA),)"

clean:
	mvn -B -q clean
	rm -rf $(WORK)
